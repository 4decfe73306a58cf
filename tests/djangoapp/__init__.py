"""A Django app holding the reference models of the differential tests."""
