"""Custom default managers, prefetch caches and reloading, compared with Django 5.2.

``Doc.objects`` hides deleted rows. Django builds related managers and
prefetch queries on the related model's default manager, so ``folder.doc_set``
hides them too, while following a foreign key and the delete collector use a
plain manager and still see every row. A prefetched relation answers from its
cache until something changes it: a write through the manager forgets the cache,
and ``set()`` or ``clear(bulk=False)`` look at the current rows first.
"""

from tests.models.diff_harness import World, assert_same, label_counts


def make_folders(w: World) -> None:
    for name in ("work", "home"):
        w.Folder.objects.create(name=name)
    for title, folder, deleted in (
        ("a", 1, False),
        ("b", 1, True),
        ("c", 1, True),
        ("d", 2, False),
    ):
        w.Doc.objects.create(title=title, folder_id=folder, deleted=deleted)


def test_related_managers_and_prefetching_use_the_default_manager() -> None:
    def ops(w: World) -> None:
        make_folders(w)
        w.record()
        folder = w.Folder.objects.get(pk=1)
        w.note("doc_set", list(folder.doc_set.all()))
        w.note("count", folder.doc_set.count())
        w.note("everything", list(w.Doc.everything.filter(folder=folder)))
        w.note(
            "prefetched",
            [list(f.doc_set.all()) for f in w.Folder.objects.prefetch_related("doc_set")],
        )
        w.note("forward", w.Doc.everything.get(pk=2).folder)
        w.note("got", folder.doc_set.get_or_create(title="b"))

    assert_same(ops, record=False)


def test_deleting_through_the_manager_spares_hidden_rows_until_the_owner_goes() -> None:
    def ops(w: World) -> None:
        make_folders(w)
        w.record()
        folder = w.Folder.objects.get(pk=1)
        w.note("deleted", label_counts(folder.doc_set.all().delete()[1]))
        w.note("left", list(w.Doc.everything.order_by("pk")))
        w.note("deleted", label_counts(folder.delete()[1]))

    assert_same(
        ops,
        [
            "pre_init Folder args=(1, 'work') kwargs={}",
            "post_init Folder instance=Folder#1",
            "pre_init Doc args=(1, 1, 'a', False) kwargs={}",
            "post_init Doc instance=Doc#1",
            "pre_delete Doc instance=Doc#1 using='default' origin=QuerySet<Doc>",
            "post_delete Doc instance=Doc#1 using='default' origin=QuerySet<Doc>",
            "= deleted: {'Doc': 1}",
            "pre_init Doc args=(2, 1, 'b', True) kwargs={}",
            "post_init Doc instance=Doc#2",
            "pre_init Doc args=(3, 1, 'c', True) kwargs={}",
            "post_init Doc instance=Doc#3",
            "pre_init Doc args=(4, 2, 'd', False) kwargs={}",
            "post_init Doc instance=Doc#4",
            "= left: [Doc#2, Doc#3, Doc#4]",
            "pre_init Doc args=(2, 1, 'b', True) kwargs={}",
            "post_init Doc instance=Doc#2",
            "pre_init Doc args=(3, 1, 'c', True) kwargs={}",
            "post_init Doc instance=Doc#3",
            "pre_delete Doc instance=Doc#2 using='default' origin=Folder#1",
            "pre_delete Doc instance=Doc#3 using='default' origin=Folder#1",
            "pre_delete Folder instance=Folder#1 using='default' origin=Folder#1",
            "post_delete Doc instance=Doc#3 using='default' origin=Folder#1",
            "post_delete Doc instance=Doc#2 using='default' origin=Folder#1",
            "post_delete Folder instance=Folder#1 using='default' origin=Folder#1",
            "= deleted: {'Doc': 2, 'Folder': 1}",
        ],
        record=False,
    )


def test_set_and_clear_on_a_prefetched_instance_look_at_the_current_rows() -> None:
    def ops(w: World) -> None:
        for name in ("red", "blue"):
            w.Team.objects.create(name=name)
        for name, team in (("p1", 1), ("p2", 1), ("p3", 2)):
            w.Player.objects.create(name=name, team_id=team)
        team = w.Team.objects.prefetch_related("player_set").get(pk=1)
        w.Player.objects.filter(pk=3).update(team_id=1)
        w.record()
        team.player_set.set([w.Player.objects.get(pk=1)])
        w.note("players", list(w.Player.objects.filter(team_id=1)))
        team = w.Team.objects.prefetch_related("player_set").get(pk=1)
        w.Player.objects.filter(pk=2).update(team_id=1)
        team.player_set.clear(bulk=False)
        w.note("players", list(w.Player.objects.filter(team_id=1)))

    assert_same(ops, record=False)


def test_create_and_refresh_forget_the_prefetched_rows() -> None:
    def ops(w: World) -> None:
        make_folders(w)
        w.record()
        folder = w.Folder.objects.prefetch_related("doc_set").get(pk=2)
        w.note("docs", list(folder.doc_set.all()))
        folder.doc_set.create(title="e")
        w.note("after create", list(folder.doc_set.all()))
        folder = w.Folder.objects.prefetch_related("doc_set").get(pk=2)
        w.Doc.objects.create(title="f", folder_id=2)
        folder.refresh_from_db()
        w.note("after refresh", list(folder.doc_set.all()))
        folder = w.Folder.objects.prefetch_related("doc_set").get(pk=2)
        folder.refresh_from_db(fields=["doc_set"])
        w.note("after refresh of the relation", list(folder.doc_set.all()))

    assert_same(ops, record=False)


def test_refresh_of_a_deferred_instance_keeps_what_was_deferred() -> None:
    def ops(w: World) -> None:
        w.Note.objects.create(text="n")
        w.record()
        note = w.Note.objects.only("text").get()
        note.refresh_from_db()
        w.note("deferred", sorted(note.get_deferred_fields()))
        note.save()
        w.note("done", note.done)
        note.save()

    assert_same(ops, record=False)


def test_custom_manager_methods_on_related_managers() -> None:
    def ops(w: World) -> None:
        make_folders(w)
        w.record()
        folder = w.Folder.objects.get(pk=1)
        w.note("filtered", list(folder.doc_set.filter(title__in=["a", "b"])))
        w.note("exists", folder.doc_set.exists())
        folder.doc_set.update(deleted=True)
        w.note("live", list(w.Doc.objects.all()))

    assert_same(ops, record=False)


def test_class_and_app_label_fill_in_related_names_of_an_abstract_base() -> None:
    def ops(w: World) -> None:
        shelf = w.Shelf.objects.create(name="s")
        w.Poster.objects.create(shelf=shelf, title="p")
        w.Mug.objects.create(shelf=shelf, color="red")
        w.record()
        w.note("posters", list(shelf.poster_items.all()))
        w.note("mugs", list(shelf.mug_items.all()))
        w.note(
            "by query name", list(w.Shelf.objects.filter(**{f"{w.app_label}_mug__color": "red"}))
        )
        w.note("deleted", label_counts(shelf.delete()[1]))

    assert_same(ops, record=False)


def test_a_queryset_as_manager_offers_its_methods() -> None:
    def ops(w: World) -> None:
        w.Chore.objects.create(title="a", done=True)
        w.Chore.objects.create(title="b")
        w.record()
        w.note("finished", list(w.Chore.objects.finished()))
        w.note("chained", list(w.Chore.objects.filter(title="b").finished()))
        w.note("manager has it", hasattr(w.Chore.objects, "finished"))
        w.note("private", hasattr(w.Chore.objects, "_fetch_all"))

    assert_same(ops, record=False)


def test_select_for_update_is_accepted_on_sqlite() -> None:
    def ops(w: World) -> None:
        w.Note.objects.create(text="n")
        w.record()
        w.note("outside", list(w.Note.objects.select_for_update()))
        with w.transaction.atomic():
            w.note("inside", w.Note.objects.select_for_update(of=("self",)).get(pk=1))
        w.raises_with_message(
            lambda: list(w.Note.objects.select_for_update(nowait=True, skip_locked=True))
        )

    assert_same(ops, record=False)
