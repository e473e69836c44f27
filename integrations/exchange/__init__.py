"""Exchange calendar sync, both ways: EWS (Exchange Server) and Microsoft Graph (Exchange Online).

conf.py reads RFR_EXCHANGE_* and friends; graph.py and ews.py speak the protocols;
adapter.py turns each into the small ``Calendar`` Protocol of integrations/base.py;
sync.py pushes our bookings out and brings Outlook meetings in through the booking
services, so the exclusion constraint decides either way.
"""
