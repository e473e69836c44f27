"""Exchange calendar sync, both ways: Microsoft Graph (Exchange Online); EWS is still to come.

conf.py reads RFR_EXCHANGE_* and friends; graph.py speaks the protocol; adapter.py
turns it into the small ``Calendar`` Protocol of integrations/base.py (an EWS back end
would be a second implementation of it);
sync.py pushes our bookings out and brings Outlook meetings in through the booking
services, so the exclusion constraint decides either way.
"""
