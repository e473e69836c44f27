"""Reads of the booking domain, one module per question a page or the API asks.

- ``places``: buildings, rooms and equipment from the ORM, as model instances.
- ``catalogue``: every room in memory per catalogue version, with its JSON (the API's
  room list).
- ``availability``: which rooms are free when (the finder page and the API).
- ``dayplan``: who has which room on one local day, and its JSON for the API.
- ``timeline``: the pages' plans on a time axis (a building's or site's day, a room's week).
- ``suggestions``: other times and rooms when a slot is taken.
- ``bookings``, ``series``, ``noshows``: a room's, a person's and a series' bookings;
  bookings nobody checked in to.
- ``privacy``: which title of a booking a viewer may see.

Each selector runs a fixed number of queries whatever the number of rooms or bookings,
so the day plan of 200 rooms costs what the day plan of 2 costs.
"""
