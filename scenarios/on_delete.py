"""What CASCADE, SET_NULL and PROTECT send when the parent is deleted.

CASCADE deletes the children with their own pre_delete and post_delete.
SET_NULL is one UPDATE: the children are not even loaded, and no pre_save or
post_save is sent. PROTECT raises ProtectedError while the delete is being
planned, before any pre_delete.
"""

import sigcli
from sigcli import models, receiver
from sigcli.signals import post_delete, post_save, pre_delete, pre_save


class Owner(models.Model):
    name = models.CharField(max_length=50)

    def __str__(self):
        return self.name


class Pet(models.Model):
    name = models.CharField(max_length=50)
    owner = models.ForeignKey(Owner, on_delete=models.CASCADE)

    def __str__(self):
        return self.name


class Car(models.Model):
    plate = models.CharField(max_length=20)
    owner = models.ForeignKey(Owner, on_delete=models.SET_NULL, null=True)

    def __str__(self):
        return self.plate


class Loan(models.Model):
    amount = models.IntegerField()
    owner = models.ForeignKey(Owner, on_delete=models.PROTECT)

    def __str__(self):
        return f"loan of {self.amount}"


@receiver([pre_save, post_save, pre_delete, post_delete])
def log(sender, instance, signal, **kwargs):
    return f"{sender.__name__} {instance.pk}"


@sigcli.step
def set_up():
    """Ann has a pet and a car; Bob has a loan."""
    ann = Owner.objects.create(name="Ann")
    Pet.objects.create(name="Rex", owner=ann)
    Car.objects.create(plate="AB-123", owner=ann)
    bob = Owner.objects.create(name="Bob")
    Loan.objects.create(amount=1000, owner=bob)


@sigcli.step
def cascade_and_set_null():
    """Deleting Ann: Rex is deleted with signals; the car's owner is set to NULL silently."""
    Owner.objects.get(name="Ann").delete()


@sigcli.step
def protect():
    """Deleting Bob: his loan is loaded, ProtectedError is raised, nothing is deleted."""
    try:
        Owner.objects.get(name="Bob").delete()
    except models.ProtectedError:
        assert Owner.objects.filter(name="Bob").exists()
