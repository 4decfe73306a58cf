import unittest

from shopapp.models import Order


class OrderTests(unittest.TestCase):
    def test_tea(self):
        Order.objects.create(item="tea")

    def test_broken(self):
        Order.objects.create(item="broken")
