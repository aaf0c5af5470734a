"""`manage.py runloops`."""
