"""A scenario written as one run() function, with a helper that is not a step."""

from sigcli import Signal, receiver

hello = Signal()


@receiver(hello)
def answer(sender, **kwargs):
    print("a scenario may print")
    return "hi"


def helper():
    return hello.send(sender="greeter")


def run():
    helper()
