"""dead_reference: a local function connected weakly dies when its function returns."""

import sigcli
from sigcli import models
from sigcli.signals import post_save


class Note(models.Model):
    text = models.CharField(max_length=100)


def listen():
    def note_saved(sender, instance, **kwargs):
        return "heard"

    post_save.connect(note_saved, sender=Note)


@sigcli.step
def write_notes():
    """two notes are saved after the receiver was connected"""
    listen()
    Note.objects.create(text="one")
    Note.objects.create(text="two")
