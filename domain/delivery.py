"""The vocabulary of notifications: the outbox (what the tick decided to tell) and each delivery
(one message on one channel to one recipient), with the moves of the send protocol."""

from __future__ import annotations

from enum import StrEnum

from domain.vocabulary import Vocabulary


class OutboxState(StrEnum):
    pending = "pending"  # decided by the tick, not yet planned into deliveries
    planned = "planned"  # its deliveries exist
    obsolete = "obsolete"  # untrue by its delivery day (the work it chased was handed in): never sent


class OutboxKind(StrEnum):
    """Why the tick owes the message (`Outbox.kind`): a reminder (`domain.rules.Reminder.kind`) or a rung reached."""

    before = "before"
    due = "due"
    overdue = "overdue"
    escalation = "escalation"
    # Events that concern a person (services.delivery.events.owe_event_message), issue 12.
    returned = "returned"  # 材料被退回
    accepted = "accepted"  # 材料审核通过
    lead_assigned = "lead_assigned"  # 线索交办
    closure_decided = "closure_decided"  # 销号审核结果
    # The supervision loop, issue 13 (services.supervision).
    acknowledge = "acknowledge"  # 签收提醒: not signed for within the YAML's working days
    extension_decided = "extension_decided"  # 延期申请的审批结果
    urged = "urged"  # 催办
    # 督办单 and 批示, issue 13 (services.duban, services.instructions).
    duban = "duban"  # 督办单签发
    instruction = "instruction"  # 领导批示


# The tick's kinds chase unfinished work: once the assignment is handed in they are stale. An event
# kind chases only when its outbox row says so (`Outbox.chases`, set by whoever owes it).
CHASING_KINDS: frozenset[str] = frozenset(
    {OutboxKind.before, OutboxKind.due, OutboxKind.overdue, OutboxKind.escalation}
)


OUTBOX = Vocabulary(
    OutboxState,
    {OutboxState.pending: "待投递", OutboxState.planned: "已安排", OutboxState.obsolete: "已失效"},
    transitions={OutboxState.pending: (OutboxState.planned, OutboxState.obsolete)},
)


class DeliveryState(StrEnum):
    pending = "pending"
    sending = "sending"  # claimed by a sender; a crash here leaves it uncertain
    sent = "sent"
    failed = "failed"  # will be retried
    gave_up = "gave_up"
    uncertain = "uncertain"  # the sender died between handing it over and recording it
    obsolete = "obsolete"  # untrue when its turn to be sent came (all it chased was handed in): never sent


D = DeliveryState
DELIVERY = Vocabulary(
    DeliveryState,
    {
        D.pending: "待发送",
        D.sending: "发送中",
        D.sent: "已送达",
        D.failed: "待重试",
        D.gave_up: "已放弃",
        D.uncertain: "待确认（发送中断）",
        D.obsolete: "已失效（未发送）",
    },
    transitions={
        # checked against the records before each send (services.delivery.sending): a message chasing
        # only work handed in since it was planned is not sent
        D.pending: (D.sending, D.obsolete),
        D.failed: (D.sending, D.obsolete),
        D.sending: (D.sent, D.failed, D.gave_up, D.uncertain),
        # settled by the office: it did arrive, or it is to be sent again
        D.uncertain: (D.sent, D.pending),
        D.gave_up: (D.sent, D.pending),
    },
)
# What a sender may claim.
SENDABLE: tuple[str, ...] = DELIVERY.sources_of(D.sending)
# What the office settles by hand (services.delivery.problems.confirm_uncertain).
SETTLED_BY_OFFICE: tuple[str, ...] = DELIVERY.sources_of(D.pending)


class Channel(StrEnum):
    inbox = "inbox"
    email = "email"
    webhook = "webhook"


CHANNEL = Vocabulary(Channel, {Channel.inbox: "站内消息", Channel.email: "电子邮件", Channel.webhook: "群机器人"})
PUSH_CHANNELS: tuple[str, ...] = (Channel.email.value, Channel.webhook.value)
