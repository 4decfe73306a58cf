"""sigcli on real Django: an observer of ``django.dispatch.Signal`` that writes
the same journal events as sigcli's own dispatcher, so that everything built
on traces (the recorder, the JSON file, ``sigcli trace``, the tree, exports)
works on Django's own engine unchanged.

Importing this package does not import Django; :mod:`.observer` does.
"""
