"""``select_related``, ``prefetch_related`` and ``iterator()`` on harder ground, compared with Django 5.2.

Which objects a query builds, and when, decides the ``pre_init``/``post_init``
pairs: a joined row builds its main object and then each related one depth
first; ``iterator()`` builds each object only when the loop reaches it.
"""

from tests.models.diff_harness import World, assert_same


def make_shops(w: World) -> None:
    for name in ("north", "south"):
        w.Shop.objects.create(name=name)
    for shop in (1, 1, 2):
        w.Product.objects.create(shop_id=shop, name=f"p{shop}")
        w.Employee.objects.create(shop_id=shop, name=f"e{shop}")
    for product, employee in ((1, 2), (2, 3), (3, 1)):
        w.Sale.objects.create(product_id=product, employee_id=employee)


def make_reviews(w: World) -> None:
    author = w.Author.objects.create(name="ann")
    for title in ("x", "y"):
        book = w.Book.objects.create(title=title, author=author)
        w.Review.objects.create(book=book, stars=3)
    w.User.objects.create(username="u1")
    w.Profile.objects.create(user=w.User.objects.create(username="u2"), bio="hi")


def test_bare_select_related_follows_every_non_null_foreign_key_recursively() -> None:
    def ops(w: World) -> None:
        make_reviews(w)
        make_shops(w)
        w.record()
        w.note("reviews", [r.book.author.name for r in w.Review.objects.select_related()])
        w.note("sales", [s.product.shop.name for s in w.Sale.objects.select_related()])
        w.note("players", list(w.Player.objects.select_related()))

    assert_same(ops, record=False)


def test_nested_and_reverse_one_to_one_select_related() -> None:
    def ops(w: World) -> None:
        make_reviews(w)
        make_shops(w)
        w.record()
        sales = w.Sale.objects.select_related("product__shop", "employee").order_by("-pk")
        w.note("sales", [(s.product.shop.name, s.employee.name) for s in sales])
        users = w.User.objects.select_related("profile").order_by("pk")
        for user in users:
            w.raises(lambda user=user: w.note("bio", user.profile.bio))
        w.note("back", [p.user.profile.bio for p in w.Profile.objects.select_related("user")])
        w.raises_with_message(lambda: list(w.Sale.objects.select_related("product__name")))
        w.raises_with_message(lambda: list(w.Sale.objects.select_related("nothing")))
        w.note("cleared", list(w.Sale.objects.select_related("product").select_related(None)))

    assert_same(ops, record=False)


def test_select_related_with_only_keeps_the_join() -> None:
    def ops(w: World) -> None:
        make_reviews(w)
        w.record()
        books = w.Book.objects.select_related("author").only("title", "author")
        w.note("authors", [b.author.name for b in books])
        w.raises_with_message(lambda: list(w.Book.objects.select_related("author").only("title")))
        w.note(
            "deferred", [b.title for b in w.Book.objects.select_related("author").defer("title")]
        )
        books = w.Book.objects.select_related("author").only("title", "author__name")
        w.note("related only", [b.author.name for b in books])
        w.note("without the join", [b.author_id for b in w.Book.objects.only("author__name")])
        reviews = w.Review.objects.select_related("book__author").defer("book__title")
        w.note("related defer", [(r.book.author.name, r.book.title) for r in reviews])
        reviews = w.Review.objects.select_related("book__author").only(
            "stars", "book__author__name"
        )
        w.note("two levels", [(r.stars, r.book.author.name, r.book.title) for r in reviews])

    assert_same(ops, record=False)


def test_iterator_builds_each_row_when_the_loop_reaches_it() -> None:
    def ops(w: World) -> None:
        make_reviews(w)
        w.record()
        for book in w.Book.objects.order_by("pk").iterator():
            w.note("loop", book)
            book.save()
        for book in w.Book.objects.iterator(chunk_size=1):
            w.note("loop", book.title)

    assert_same(ops, record=False)


def test_iterator_after_prefetch_related_prefetches_per_chunk() -> None:
    def ops(w: World) -> None:
        make_reviews(w)
        w.Book.objects.create(title="z", author_id=1)
        w.record()
        w.raises_with_message(lambda: w.Book.objects.prefetch_related("review_set").iterator())
        w.raises_with_message(lambda: w.Book.objects.iterator(chunk_size=0))
        for book in w.Book.objects.prefetch_related("review_set").iterator(chunk_size=2):
            w.note("loop", (book, list(book.review_set.all())))

    assert_same(ops, record=False)


def test_nested_prefetch_related() -> None:
    def ops(w: World) -> None:
        make_reviews(w)
        make_shops(w)
        w.record()
        authors = w.Author.objects.prefetch_related("book_set__review_set")
        w.note("reviews", [[list(b.review_set.all()) for b in a.book_set.all()] for a in authors])
        shops = w.Shop.objects.prefetch_related("product_set__sale_set", "employee_set")
        w.note("sales", [[list(p.sale_set.all()) for p in s.product_set.all()] for s in shops])
        sales = w.Sale.objects.prefetch_related("product__shop").order_by("pk")
        w.note("shops", [s.product.shop for s in sales])

    assert_same(ops, record=False)


def test_refresh_of_a_prefetched_relation_by_name() -> None:
    def ops(w: World) -> None:
        make_reviews(w)
        w.record()
        book = w.Book.objects.prefetch_related("review_set").get(pk=1)
        w.Review.objects.create(book=book, stars=5)
        book.refresh_from_db(fields=["review_set"])
        w.note("reviews", list(book.review_set.all()))
        w.raises_with_message(book.refresh_from_db, fields=["author__name"])

    assert_same(ops, record=False)


def test_prefetch_objects_choose_their_rows_and_attribute() -> None:
    def ops(w: World) -> None:
        make_reviews(w)
        w.Folder.objects.create(name="f")
        for title, deleted in (("a", False), ("b", True)):
            w.Doc.objects.create(folder_id=1, title=title, deleted=deleted)
        w.record()
        P = w.models.Prefetch
        folders = w.Folder.objects.prefetch_related(
            P("doc_set", queryset=w.Doc.everything.order_by("-pk"), to_attr="all_docs")
        )
        w.note("to_attr", [f.all_docs for f in folders])
        folders = w.Folder.objects.prefetch_related(P("doc_set", queryset=w.Doc.everything.all()))
        w.note("cache", [list(f.doc_set.all()) for f in folders])
        books = w.Book.objects.prefetch_related(
            P("author", queryset=w.Author.objects.filter(name="ann"), to_attr="writer"),
            P("review_set", queryset=w.Review.objects.filter(stars__gt=4)),
        )
        w.note("forward", [(b.writer, list(b.review_set.all())) for b in books])
        authors = w.Author.objects.prefetch_related(
            "book_set", P("book_set__review_set", to_attr="reviews")
        )
        w.note("nested", [[b.reviews for b in a.book_set.all()] for a in authors])
        w.raises_with_message(
            lambda: list(
                w.Author.objects.prefetch_related(
                    "book_set", P("book_set", queryset=w.Book.objects.all())
                )
            )
        )
        w.note(
            "cleared", list(w.Author.objects.prefetch_related("book_set").prefetch_related(None))
        )

    assert_same(ops, record=False)
