"""Django's async ORM names (acreate, asave, async for...) send the same signals as the sync calls."""

import asyncio

from sigcli import models
from tests.models.recording import recording


def test_async_variants_send_the_sync_sequence():
    with recording() as (registry, log):

        class Tag(models.Model):
            pass

        class Post(models.Model):
            title = models.CharField(max_length=10)
            tags = models.ManyToManyField(Tag)

        registry.migrate()

        async def run():
            post = await Post.objects.acreate(title="a")
            post.title = "b"
            await post.asave(update_fields=["title"])
            await post.tags.aadd(await Tag.objects.acreate())
            titles = [p.title async for p in Post.objects.all()]
            counted = await Post.objects.filter(title="b").acount()
            fetched = await Post.objects.aget(pk=post.pk)
            deleted = await fetched.adelete()
            return titles, counted, deleted

        titles, counted, deleted = asyncio.run(run())
    assert (titles, counted) == (["b"], 1)
    assert deleted == (2, {"app.Post_tags": 1, "app.Post": 1})
    assert [line.split(" ")[0] for line in log.take()] == [
        "pre_init",
        "post_init",
        "pre_save",
        "post_save",
        "pre_save",
        "post_save",
        "pre_init",
        "post_init",
        "pre_save",
        "post_save",
        "m2m_changed",
        "pre_init",
        "post_init",
        "m2m_changed",
        "pre_init",
        "post_init",
        "pre_init",
        "post_init",
        "pre_init",
        "post_init",
        "pre_delete",
        "post_delete",
    ]
