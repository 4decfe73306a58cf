"""A receiver that sends the signal it listens to: runaway recursion."""

import sigcli
from sigcli import Signal, receiver

ping = Signal()
pong = Signal()


class Net:
    pass


@receiver(ping)
def answer(sender, **kwargs):
    pong.send(sender=sender)


@receiver(pong)
def ask_again(sender, **kwargs):
    ping.send(sender=sender)


@sigcli.step
def start():
    """ping"""
    ping.send(sender=Net)
