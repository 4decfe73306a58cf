"""Reverse foreign-key managers: bulk updates send nothing, per-object saves send save signals."""

import pytest

from sigcli import models
from tests.models.recording import recording


def declare_team():
    class Team(models.Model):
        pass

    class Player(models.Model):
        team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True)

    class Member(models.Model):
        team = models.ForeignKey(Team, on_delete=models.CASCADE)

    return Team, Player, Member


def test_bulk_add_remove_clear_send_nothing():
    with recording() as (registry, log):
        Team, Player, _ = declare_team()
        registry.migrate()
        team = Team.objects.create()
        p1, p2 = Player.objects.create(), Player.objects.create()
        log.take()
        team.player_set.add(p1, p2)
        team.player_set.remove(p1)
        team.player_set.clear()
        assert log.take() == []
        assert list(Player.objects.values_list("team", flat=True)) == [None, None]


def test_non_bulk_add_saves_each_object_and_non_bulk_remove_saves_the_fk_only():
    with recording() as (registry, log):
        Team, Player, _ = declare_team()
        registry.migrate()
        team = Team.objects.create()
        p1 = Player.objects.create()
        log.take()
        team.player_set.add(p1, bulk=False)
        assert log.take() == [
            "pre_save Player#1 update_fields=None",
            "post_save Player#1 created=False update_fields=None",
        ]
        team.player_set.remove(p1, bulk=False)
        assert log.take() == [
            "pre_init Player args=(1, 1) kwargs={}",
            "post_init Player#1",
            "pre_save Player#1 update_fields={team}",
            "post_save Player#1 created=False update_fields={team}",
        ]


def test_set_loads_current_rows_then_removes_stale_and_adds_new():
    with recording() as (registry, log):
        Team, Player, _ = declare_team()
        registry.migrate()
        team = Team.objects.create()
        Player.objects.create(team=team)
        p2 = Player.objects.create()
        log.take()
        team.player_set.set([p2])
        assert log.take() == ["pre_init Player args=(1, 1) kwargs={}", "post_init Player#1"]
        assert list(team.player_set.values_list("pk", flat=True)) == [2]


def test_create_fills_the_foreign_key_and_non_nullable_has_no_remove():
    with recording() as (registry, log):
        Team, _, Member = declare_team()
        registry.migrate()
        team = Team.objects.create()
        log.take()
        member = team.member_set.create()
        assert member.team_id == team.pk
        assert log.take()[-1] == "post_save Member#1 created=True update_fields=None"
        with pytest.raises(AttributeError):
            team.member_set.remove(member)
        with pytest.raises(TypeError, match="'Member' instance expected"):
            team.member_set.add(team)


def test_removing_an_unrelated_object_raises_does_not_exist():
    with recording(connect=False) as (registry, _):
        Team, Player, _ = declare_team()
        registry.migrate()
        team = Team.objects.create()
        stranger = Player.objects.create()
        with pytest.raises(Team.DoesNotExist, match="is not related to"):
            team.player_set.remove(stranger)


def test_do_nothing_leaves_the_constraint_to_the_database_and_the_delete_is_undone():
    with recording(connect=False) as (registry, _):

        class Owner(models.Model):
            pass

        class Pet(models.Model):
            owner = models.ForeignKey(Owner, on_delete=models.DO_NOTHING)

        registry.migrate()
        owner = Owner.objects.create()
        Pet.objects.create(owner=owner)
        with pytest.raises(models.IntegrityError, match="FOREIGN KEY constraint failed"):
            owner.delete()
        assert Owner.objects.count() == 1
