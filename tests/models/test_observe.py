"""The ORM observer: operation labels that read like the call, and every SQL statement."""

from sigcli import models


class Recorder:
    def __init__(self):
        self.events = []
        self.depth = 0

    def operation_started(self, label, model):
        self.events.append(("  " * self.depth) + f"{label} [{model}]")
        self.depth += 1

    def operation_finished(self, error):
        self.depth -= 1
        if error is not None:
            self.events.append(("  " * self.depth) + f"! {type(error).__name__}")

    def sql_executed(self, sql, params):
        self.events.append(("  " * self.depth) + "SQL " + sql.split(" ", 1)[0])


def test_labels_read_like_the_calls_and_nest():
    registry = models.Registry()
    recorder = Recorder()
    with models.use_registry(registry):

        class Author(models.Model):
            name = models.CharField(max_length=10)

            def __str__(self):
                return self.name

        class Topping(models.Model):
            pass

        class Pizza(models.Model):
            toppings = models.ManyToManyField(Topping)

        registry.migrate()
        topping = Topping.objects.create()
        pizza = Pizza.objects.create()
        with models.observe_orm(recorder):
            author = Author.objects.create(name="a")
            author.save(update_fields=["name"])
            list(Author.objects.filter(name="a"))
            pizza.toppings.add(topping)
            Author.objects.filter(name="zz").delete()
            try:
                Author.objects.get(name="zz")
            except Author.DoesNotExist:
                pass
            author.delete()
    assert recorder.events == [
        "Author.objects.create(name='a') [Author]",
        "  author.save(force_insert=True, using='default') [Author]",
        "    SQL INSERT",
        "author.save(update_fields=['name']) [Author]",
        "  SQL UPDATE",
        "Author.objects.filter(name='a') [Author]",
        "  SQL SELECT",
        "pizza.toppings.add(<Topping: Topping object (1)>) [Topping]",
        "  SQL BEGIN",
        "  SQL INSERT",
        "  SQL COMMIT",
        "Author.objects.filter(name='zz').delete() [Author]",
        "  SQL BEGIN",
        "  SQL DELETE",
        "  SQL COMMIT",
        "Author.objects.get(name='zz') [Author]",
        "  SQL SELECT",
        "! DoesNotExist",
        "author.delete() [Author]",
        "  SQL DELETE",
    ]


def test_nothing_is_reported_once_the_observer_is_removed():
    registry = models.Registry()
    recorder = Recorder()
    with models.use_registry(registry):

        class Note(models.Model):
            pass

        with models.observe_orm(recorder):
            pass
        Note.objects.create()
    assert recorder.events == []


def test_a_failing_str_does_not_break_the_observed_call():
    registry = models.Registry()
    recorder = Recorder()
    with models.use_registry(registry):

        class Tag(models.Model):
            def __str__(self):
                raise RuntimeError("no str")

        class Post(models.Model):
            tags = models.ManyToManyField(Tag)

        registry.migrate()
        tag, post = Tag.objects.create(), Post.objects.create()
        with models.observe_orm(recorder):
            post.tags.add(tag)
        assert list(post.tags.values_list("pk", flat=True)) == [1]
    assert recorder.events[0] == "post.tags.add(<Tag (repr failed: RuntimeError)>) [Tag]"
