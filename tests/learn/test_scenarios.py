"""Every bundled scenario runs, with its exact signal sequence.

Each step's dispatches are written as in ``harness.line``: signal, sender,
keyword arguments (without ``using``), indented by nesting depth, then the
receivers called with what they returned (``!!`` when the send raised).
``pre_init``/``post_init`` are left out of these lists (no scenario listens to
them) but are compared with Django in ``test_matches_django``.

The sequences of the scenarios that Django can run were produced by running
the same scenario source on Django 5.2 (``harness.django_steps``); the
request cycle's were checked against Django's test Client in
``test_http.py``.
"""

from __future__ import annotations

import pytest

from sigcli.scenario import bundled_paths
from tests.learn.harness import NotDjango, django_source, django_steps, sigcli_steps

INIT = ("pre_init ", "post_init ")

EXPECTED: dict[str, list[list[str]]] = {
    "async_receivers": [
        [
            "order_shipped Shipment tracking='TRK-1' -> email_customer='emailed about TRK-1', update_stock='stock updated'",
        ],
        [
            "order_shipped Shipment tracking='TRK-2' -> email_customer='emailed about TRK-2', update_stock='stock updated'",
        ],
        [
            "pre_save Shipment instance=Shipment:None raw=False update_fields=None",
            "post_save Shipment instance=Shipment:1 created=True update_fields=None raw=False -> notify_courier='courier told about TRK-3', log_shipment='logged'",
        ],
    ],
    "bulk_operations": [
        [
            "pre_save Product instance=Product:None raw=False update_fields=None -> reindex='reindex lamp'",
            "post_save Product instance=Product:1 created=True update_fields=None raw=False -> reindex='reindex lamp'",
        ],
        [],
        [],
        [],
        [
            "pre_save Product instance=Product:2 raw=False update_fields=None -> reindex='reindex desk'",
            "post_save Product instance=Product:2 created=False update_fields=None raw=False -> reindex='reindex desk'",
        ],
    ],
    "cascade_order": [
        [
            "pre_save Author instance=Author:None raw=False update_fields=None",
            "post_save Author instance=Author:1 created=True update_fields=None raw=False",
            "pre_save Book instance=Book:None raw=False update_fields=None",
            "post_save Book instance=Book:1 created=True update_fields=None raw=False",
            "pre_save Review instance=Review:None raw=False update_fields=None",
            "post_save Review instance=Review:1 created=True update_fields=None raw=False",
            "pre_save Review instance=Review:None raw=False update_fields=None",
            "post_save Review instance=Review:2 created=True update_fields=None raw=False",
            "pre_save Book instance=Book:None raw=False update_fields=None",
            "post_save Book instance=Book:2 created=True update_fields=None raw=False",
            "pre_save Review instance=Review:None raw=False update_fields=None",
            "post_save Review instance=Review:3 created=True update_fields=None raw=False",
            "pre_save Review instance=Review:None raw=False update_fields=None",
            "post_save Review instance=Review:4 created=True update_fields=None raw=False",
            "pre_save Author instance=Author:None raw=False update_fields=None",
            "post_save Author instance=Author:2 created=True update_fields=None raw=False",
            "pre_save Book instance=Book:None raw=False update_fields=None",
            "post_save Book instance=Book:3 created=True update_fields=None raw=False",
            "pre_save Review instance=Review:None raw=False update_fields=None",
            "post_save Review instance=Review:5 created=True update_fields=None raw=False",
        ],
        [
            "pre_delete Review instance=Review:1 origin=Author:1 -> log_delete='Review 1'",
            "pre_delete Review instance=Review:2 origin=Author:1 -> log_delete='Review 2'",
            "pre_delete Review instance=Review:3 origin=Author:1 -> log_delete='Review 3'",
            "pre_delete Review instance=Review:4 origin=Author:1 -> log_delete='Review 4'",
            "pre_delete Book instance=Book:1 origin=Author:1 -> log_delete='Book 1'",
            "pre_delete Book instance=Book:2 origin=Author:1 -> log_delete='Book 2'",
            "pre_delete Author instance=Author:1 origin=Author:1 -> log_delete='Author 1'",
            "post_delete Review instance=Review:4 origin=Author:1 -> log_delete='Review 4'",
            "post_delete Review instance=Review:3 origin=Author:1 -> log_delete='Review 3'",
            "post_delete Review instance=Review:2 origin=Author:1 -> log_delete='Review 2'",
            "post_delete Review instance=Review:1 origin=Author:1 -> log_delete='Review 1'",
            "post_delete Book instance=Book:2 origin=Author:1 -> log_delete='Book 2'",
            "post_delete Book instance=Book:1 origin=Author:1 -> log_delete='Book 1'",
            "post_delete Author instance=Author:1 origin=Author:1 -> log_delete='Author 1'",
        ],
        [
            "pre_delete Review instance=Review:5 origin=QuerySet<Book> -> log_delete='Review 5'",
            "pre_delete Book instance=Book:3 origin=QuerySet<Book> -> log_delete='Book 3'",
            "post_delete Review instance=Review:5 origin=QuerySet<Book> -> log_delete='Review 5'",
            "post_delete Book instance=Book:3 origin=QuerySet<Book> -> log_delete='Book 3'",
        ],
    ],
    "connecting": [
        [
            "pre_save Book instance=Book:None raw=False update_fields=None",
            "post_save Book instance=Book:1 created=True update_fields=None raw=False -> book_saved='book Dune', anything_saved='Book Dune'",
        ],
        [
            "pre_save Author instance=Author:None raw=False update_fields=None -> author_changing='before the write'",
            "post_save Author instance=Author:1 created=True update_fields=None raw=False -> anything_saved='Author Frank', author_changing='after the write', log_author='created'",
        ],
        [
            "pre_save Author instance=Author:None raw=False update_fields=None -> author_changing='before the write'",
            "post_save Author instance=Author:2 created=True update_fields=None raw=False -> anything_saved='Author Brian', author_changing='after the write'",
        ],
    ],
    "custom_signal": [
        [
            "payment_received Stripe amount=100 currency='EUR' -> book_payment='booked 100 EUR via Stripe', stripe_fee=3.15",
        ],
        [
            "payment_received PayPal amount=40 currency='EUR' -> book_payment='booked 40 EUR via PayPal'",
        ],
    ],
    "dispatch_uid": [
        [
            "pre_save Order instance=Order:None raw=False update_fields=None",
            "post_save Order instance=Order:1 created=True update_fields=None raw=False -> import_receipts_module.<locals>.send_receipt='receipt for order 1', import_receipts_module.<locals>.send_receipt='receipt for order 1'",
        ],
        [
            "pre_save Order instance=Order:None raw=False update_fields=None",
            "post_save Order instance=Order:2 created=True update_fields=None raw=False -> import_receipts_module.<locals>.send_receipt='receipt for order 2'",
        ],
    ],
    "m2m_changed": [
        [
            "pre_save Topping instance=Topping:None raw=False update_fields=None",
            "post_save Topping instance=Topping:1 created=True update_fields=None raw=False",
            "pre_save Topping instance=Topping:None raw=False update_fields=None",
            "post_save Topping instance=Topping:2 created=True update_fields=None raw=False",
            "pre_save Topping instance=Topping:None raw=False update_fields=None",
            "post_save Topping instance=Topping:3 created=True update_fields=None raw=False",
            "pre_save Topping instance=Topping:None raw=False update_fields=None",
            "post_save Topping instance=Topping:4 created=True update_fields=None raw=False",
            "pre_save Pizza instance=Pizza:None raw=False update_fields=None",
            "post_save Pizza instance=Pizza:1 created=True update_fields=None raw=False",
            "pre_save Pizza instance=Pizza:None raw=False update_fields=None",
            "post_save Pizza instance=Pizza:2 created=True update_fields=None raw=False",
        ],
        [
            "m2m_changed Pizza_toppings action='pre_add' instance=Pizza:1 reverse=False model='Topping' pk_set=[1] -> toppings_changed='pre_add Topping [1]'",
            "m2m_changed Pizza_toppings action='post_add' instance=Pizza:1 reverse=False model='Topping' pk_set=[1] -> toppings_changed='post_add Topping [1]'",
            "m2m_changed Pizza_toppings action='pre_add' instance=Pizza:1 reverse=False model='Topping' pk_set=[2] -> toppings_changed='pre_add Topping [2]'",
            "m2m_changed Pizza_toppings action='post_add' instance=Pizza:1 reverse=False model='Topping' pk_set=[2] -> toppings_changed='post_add Topping [2]'",
        ],
        [
            "m2m_changed Pizza_toppings action='pre_add' instance=Pizza:1 reverse=False model='Topping' pk_set=[] -> toppings_changed='pre_add Topping []'",
            "m2m_changed Pizza_toppings action='post_add' instance=Pizza:1 reverse=False model='Topping' pk_set=[] -> toppings_changed='post_add Topping []'",
        ],
        [
            "m2m_changed Pizza_toppings action='pre_remove' instance=Pizza:1 reverse=False model='Topping' pk_set=[2, 3] -> toppings_changed='pre_remove Topping [2, 3]'",
            "m2m_changed Pizza_toppings action='post_remove' instance=Pizza:1 reverse=False model='Topping' pk_set=[2, 3] -> toppings_changed='post_remove Topping [2, 3]'",
        ],
        [
            "m2m_changed Pizza_toppings action='pre_remove' instance=Pizza:1 reverse=False model='Topping' pk_set=[1] -> toppings_changed='pre_remove Topping [1]'",
            "m2m_changed Pizza_toppings action='post_remove' instance=Pizza:1 reverse=False model='Topping' pk_set=[1] -> toppings_changed='post_remove Topping [1]'",
            "m2m_changed Pizza_toppings action='pre_add' instance=Pizza:1 reverse=False model='Topping' pk_set=[3, 4] -> toppings_changed='pre_add Topping [3, 4]'",
            "m2m_changed Pizza_toppings action='post_add' instance=Pizza:1 reverse=False model='Topping' pk_set=[3, 4] -> toppings_changed='post_add Topping [3, 4]'",
        ],
        [
            "m2m_changed Pizza_toppings action='pre_clear' instance=Pizza:1 reverse=False model='Topping' pk_set=None -> toppings_changed='pre_clear Topping None'",
            "m2m_changed Pizza_toppings action='post_clear' instance=Pizza:1 reverse=False model='Topping' pk_set=None -> toppings_changed='post_clear Topping None'",
            "m2m_changed Pizza_toppings action='pre_add' instance=Pizza:1 reverse=False model='Topping' pk_set=[1] -> toppings_changed='pre_add Topping [1]'",
            "m2m_changed Pizza_toppings action='post_add' instance=Pizza:1 reverse=False model='Topping' pk_set=[1] -> toppings_changed='post_add Topping [1]'",
        ],
        [
            "m2m_changed Pizza_toppings action='pre_add' instance=Topping:4 reverse=True model='Pizza' pk_set=[1, 2] -> toppings_changed='pre_add Pizza [1, 2]'",
            "m2m_changed Pizza_toppings action='post_add' instance=Topping:4 reverse=True model='Pizza' pk_set=[1, 2] -> toppings_changed='post_add Pizza [1, 2]'",
        ],
        [
            "m2m_changed Pizza_toppings action='pre_clear' instance=Topping:4 reverse=True model='Pizza' pk_set=None -> toppings_changed='pre_clear Pizza None'",
            "m2m_changed Pizza_toppings action='post_clear' instance=Topping:4 reverse=True model='Pizza' pk_set=None -> toppings_changed='post_clear Pizza None'",
        ],
    ],
    "on_delete": [
        [
            "pre_save Owner instance=Owner:None raw=False update_fields=None -> log='Owner None'",
            "post_save Owner instance=Owner:1 created=True update_fields=None raw=False -> log='Owner 1'",
            "pre_save Pet instance=Pet:None raw=False update_fields=None -> log='Pet None'",
            "post_save Pet instance=Pet:1 created=True update_fields=None raw=False -> log='Pet 1'",
            "pre_save Car instance=Car:None raw=False update_fields=None -> log='Car None'",
            "post_save Car instance=Car:1 created=True update_fields=None raw=False -> log='Car 1'",
            "pre_save Owner instance=Owner:None raw=False update_fields=None -> log='Owner None'",
            "post_save Owner instance=Owner:2 created=True update_fields=None raw=False -> log='Owner 2'",
            "pre_save Loan instance=Loan:None raw=False update_fields=None -> log='Loan None'",
            "post_save Loan instance=Loan:1 created=True update_fields=None raw=False -> log='Loan 1'",
        ],
        [
            "pre_delete Pet instance=Pet:1 origin=Owner:1 -> log='Pet 1'",
            "pre_delete Owner instance=Owner:1 origin=Owner:1 -> log='Owner 1'",
            "post_delete Pet instance=Pet:1 origin=Owner:1 -> log='Pet 1'",
            "post_delete Owner instance=Owner:1 origin=Owner:1 -> log='Owner 1'",
        ],
        [],
    ],
    "profile_on_signup": [
        [
            "pre_save User instance=User:None raw=False update_fields=None",
            "post_save User instance=User:1 created=True update_fields=None raw=False -> create_profile=None",
            "  pre_save Profile instance=Profile:None raw=False update_fields=None",
            "  post_save Profile instance=Profile:1 created=True update_fields=None raw=False",
        ],
        [
            "pre_save User instance=User:1 raw=False update_fields=None",
            "post_save User instance=User:1 created=False update_fields=None raw=False -> create_profile=None",
        ],
    ],
    "profiles": [
        [
            "pre_save User instance=User:None raw=False update_fields=None -> audit=None",
            "post_save User instance=User:1 created=True update_fields=None raw=False -> create_profile=None",
            "  pre_save Profile instance=Profile:None raw=False update_fields=None -> audit=None",
            "  post_save Profile instance=Profile:1 created=True update_fields=None raw=False",
        ],
        [
            "pre_save User instance=User:1 raw=False update_fields=['username'] -> audit=None",
            "post_save User instance=User:1 created=False update_fields=['username'] raw=False -> create_profile=None",
        ],
        [
            "pre_delete Profile instance=Profile:1 origin=User:1 -> goodbye=None",
            "pre_delete User instance=User:1 origin=User:1",
            "post_delete Profile instance=Profile:1 origin=User:1",
            "post_delete User instance=User:1 origin=User:1",
        ],
    ],
    "raw_saves": [
        [
            "pre_save User instance=User:None raw=False update_fields=None",
            "post_save User instance=User:1 created=True update_fields=None raw=False -> create_profile=None",
            "  pre_save Profile instance=Profile:None raw=False update_fields=None",
            "  post_save Profile instance=Profile:1 created=True update_fields=None raw=False",
        ],
        [
            "pre_save User instance=User:10 raw=True update_fields=None",
            "post_save User instance=User:10 created=True update_fields=None raw=True -> create_profile=None",
            "pre_save Profile instance=Profile:10 raw=True update_fields=None",
            "post_save Profile instance=Profile:10 created=True update_fields=None raw=True",
        ],
    ],
    "recursion": [
        [
            "pre_save Page instance=Page:None raw=False update_fields=None",
            "post_save Page instance=Page:1 created=True update_fields=None raw=False -> count_saves=None",
            "  pre_save Page instance=Page:1 raw=False update_fields=None",
            "  post_save Page instance=Page:1 created=False update_fields=None raw=False -> count_saves=None",
            "    pre_save Page instance=Page:1 raw=False update_fields=None",
            "    post_save Page instance=Page:1 created=False update_fields=None raw=False -> count_saves=None",
        ],
        [
            "pre_save Post instance=Post:None raw=False update_fields=None",
            "post_save Post instance=Post:1 created=True update_fields=None raw=False -> count_words=None",
        ],
    ],
    "request_cycle": [
        [
            "request_started ClientHandler environ={REQUEST_METHOD: 'GET', PATH_INFO: '/', QUERY_STRING: '', SERVER_NAME: 'testserver'} -> open_request='/'",
            "pre_save Visit instance=Visit:None raw=False update_fields=None",
            "post_save Visit instance=Visit:1 created=True update_fields=None raw=False -> count_visit='visit to /'",
            "request_finished None -> close_request='closed'",
        ],
        [
            "request_started ClientHandler environ={REQUEST_METHOD: 'GET', PATH_INFO: '/articles/2/', QUERY_STRING: '', SERVER_NAME: 'testserver'} -> open_request='/articles/2/'",
            "request_finished None -> close_request='closed'",
        ],
        [
            "request_started ClientHandler environ={REQUEST_METHOD: 'GET', PATH_INFO: '/broken/', QUERY_STRING: '', SERVER_NAME: 'testserver'} -> open_request='/broken/'",
            "got_request_exception None request=\"<WSGIRequest: GET '/broken/'>\" -> report_error='error while serving /broken/'",
            "request_finished None -> close_request='closed'",
        ],
    ],
    "send_robust": [
        [
            "pre_save Order instance=Order:None raw=False update_fields=None",
            "post_save Order instance=Order:1 created=True update_fields=None raw=False -> check_total=None",
            "order_paid Order order=Order:1 !! GatewayDown",
        ],
        [
            "order_paid Order order=Order:1 -> charge_card='GatewayDown', send_receipt='receipt for order 1'",
        ],
        [
            "pre_save Order instance=Order:None raw=False update_fields=None",
            "post_save Order instance=Order:2 created=True update_fields=None raw=False !! ValueError",
        ],
    ],
    "sender_filtering": [
        [
            "pre_save Author instance=Author:None raw=False update_fields=None",
            "post_save Author instance=Author:1 created=True update_fields=None raw=False -> author_saved='author', any_model_saved='Author'",
        ],
        [
            "pre_save Book instance=Book:None raw=False update_fields=None",
            "post_save Book instance=Book:1 created=True update_fields=None raw=False -> any_model_saved='Book', book_saved='book'",
        ],
        [
            "pre_save Bestseller instance=Bestseller:None raw=False update_fields=None",
            "post_save Bestseller instance=Bestseller:2 created=True update_fields=None raw=False -> any_model_saved='Bestseller'",
        ],
    ],
    "slug_from_title": [
        [
            "pre_save Article instance=Article:None raw=False update_fields=None -> set_slug='signals-in-django'",
            "post_save Article instance=Article:1 created=True update_fields=None raw=False",
        ],
        [
            "pre_save Article instance=Article:1 raw=False update_fields=None -> set_slug='signals-in-django'",
            "post_save Article instance=Article:1 created=False update_fields=None raw=False",
        ],
        [],
    ],
    "update_fields": [
        [
            "pre_save Article instance=Article:None raw=False update_fields=None",
            "post_save Article instance=Article:1 created=True update_fields=None raw=False -> reindex='indexed Signals'",
        ],
        [
            "pre_save Article instance=Article:1 raw=False update_fields=['views']",
            "post_save Article instance=Article:1 created=False update_fields=['views'] raw=False -> reindex='skipped: only views changed'",
        ],
        [
            "pre_save Article instance=Article:1 raw=False update_fields=['title', 'views']",
            "post_save Article instance=Article:1 created=False update_fields=['title', 'views'] raw=False -> reindex='indexed Signals, again'",
        ],
        [],
    ],
    "weak_receivers": [
        [
            "pre_save Note instance=Note:None raw=False update_fields=None",
            "post_save Note instance=Note:1 created=True update_fields=None raw=False",
        ],
        [
            "pre_save Note instance=Note:None raw=False update_fields=None",
            "post_save Note instance=Note:2 created=True update_fields=None raw=False -> connect_local_receiver.<locals>.note_saved='heard heard'",
        ],
        [
            "pre_save Note instance=Note:None raw=False update_fields=None",
            "post_save Note instance=Note:3 created=True update_fields=None raw=False -> connect_local_receiver.<locals>.note_saved='heard audited', Auditor.note_saved='audited audited'",
            "pre_save Note instance=Note:None raw=False update_fields=None",
            "post_save Note instance=Note:4 created=True update_fields=None raw=False -> connect_local_receiver.<locals>.note_saved='heard not audited'",
        ],
    ],
}


def without_init(steps: list[list[str]]) -> list[list[str]]:
    return [[line for line in step if not line.lstrip().startswith(INIT)] for step in steps]


def test_every_bundled_scenario_has_an_expected_sequence() -> None:
    assert sorted(EXPECTED) == sorted(bundled_paths())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sequence(name: str) -> None:
    assert without_init(sigcli_steps(name)) == EXPECTED[name]


def _runs_on_django(name: str) -> bool:
    try:
        django_source(bundled_paths()[name])
    except NotDjango:
        return False
    return True


@pytest.mark.parametrize("name", [n for n in sorted(bundled_paths()) if _runs_on_django(n)])
def test_matches_django(name: str) -> None:
    mixed = name == "async_receivers"
    assert sigcli_steps(name, sort=mixed) == django_steps(name, sort=mixed)
