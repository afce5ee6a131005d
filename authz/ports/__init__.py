"""Ports to external parties, one module each: `sms` (SMS gateway: dev outbox | HTTP webhook), `apps` (the tax
and IIT apps' signed callbacks: QR login and face verification), `human` (the human check before a send or
a login), `events` (outbound events to the core tax system: dev outbox | signed webhook), `logout` (relying
parties' back-channel logout endpoints, delivered through the same outbox by authz.oidc.backchannel). Each has a
production and a development adapter chosen by the settings; `ports_of(svc)` builds the first three once
per Service (events are delivered by `authz.events.drain` through `events.publisher_for`)."""
from __future__ import annotations

import threading
from dataclasses import dataclass

from .apps import CallbackVerifier, parse_secrets
from .human import HmacToken, Off
from .sms import DevOutbox, HttpWebhook

_lock = threading.Lock()


@dataclass
class Ports:
    sms: object  # SmsGateway
    human: object  # HumanCheck
    app_callbacks: CallbackVerifier
    counters: object  # counters.Counters
    hasher: object  # credentials.Hasher


def build(settings, clock) -> Ports:
    """Production or development adapters as the settings say."""
    from ..counters import build_counters
    from ..credentials import Hasher
    if settings.sms_adapter == "dev":
        sms = DevOutbox(clock)
    elif settings.sms_adapter == "http":
        sms = HttpWebhook(settings.sms_webhook_url)
    else:
        raise ValueError(f"unknown sms_adapter {settings.sms_adapter!r} (dev or http)")
    if settings.human_check == "off":
        human = Off()
    elif settings.human_check == "hmac":
        human = HmacToken(settings.human_check_secret)
    else:
        raise ValueError(f"unknown human_check {settings.human_check!r} (off or hmac)")
    return Ports(sms=sms, human=human, app_callbacks=CallbackVerifier(parse_secrets(settings.app_callback_secrets)),
                 counters=build_counters(settings), hasher=Hasher(settings))


def ports_of(svc) -> Ports:
    """The service's ports, built on first use."""
    if svc.ports is None:
        with _lock:
            if svc.ports is None:
                svc.ports = build(svc.settings, svc.clock)
    return svc.ports
