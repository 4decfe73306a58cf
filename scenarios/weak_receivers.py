"""Receivers are held weakly: a receiver nothing else refers to disappears.

A function defined inside another function, then connected, is collected as
soon as that function returns, and silently stops being called. ``weak=False``
keeps it. A bound method lives exactly as long as its object.
"""

import sigcli
from sigcli import models
from sigcli.signals import post_save


class Note(models.Model):
    text = models.CharField(max_length=100)

    def __str__(self):
        return self.text


def connect_local_receiver(weak):
    def note_saved(sender, instance, **kwargs):
        return f"heard {instance}"

    post_save.connect(note_saved, sender=Note, weak=weak)


class Auditor:
    def note_saved(self, sender, instance, **kwargs):
        return f"audited {instance}"


@sigcli.step
def local_function():
    """A local function connected weakly is gone once connect_local_receiver returns."""
    connect_local_receiver(weak=True)
    Note.objects.create(text="nobody hears this")


@sigcli.step
def strong_reference():
    """weak=False: the signal holds the function itself, so it keeps being called."""
    connect_local_receiver(weak=False)
    Note.objects.create(text="heard")


@sigcli.step
def bound_method():
    """A bound method is called while its object lives, and not after it is gone."""
    auditor = Auditor()
    post_save.connect(auditor.note_saved, sender=Note)
    Note.objects.create(text="audited")
    del auditor
    Note.objects.create(text="not audited")
