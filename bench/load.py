"""The load generator: one asyncio HTTP client (aiohttp) for both assistants.

It only speaks the contract's ``POST /webhooks/rest/webhook``. What a simulated
child *says* depends on the assistant (a ``Script``): the stock ``rasa init``
bot gets greetings and moods, ours gets the menu, stories, buttons taken from
the previous reply and free text. Everything else — timing, concurrency, think
time, pacing, error accounting — is the same code for both.

Pacing: our REST channel limits each sender to 2 messages/s (burst 10). A
simulated child never types faster than that, but a benchmark user with no
think time would, and would measure the 429 path instead of the turn path. So
each simulated user may own several conversations (senders) and sends to them
in turn, and waits only if the same sender would speak again within
``min_sender_gap`` seconds. The waiting is not counted in any latency and is
reported (``pacing_wait_s``). Any 429 that still happens counts as an error.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

WEBHOOK = "/webhooks/rest/webhook"

# --- what the simulated children say -------------------------------------------------------------

STOCK_PATHS = (
    ("hi", "I am sad", "yes", "bye"),
    ("hello", "I'm great", "bye"),
    ("hey", "not good", "no", "goodbye"),
    ("good morning", "I am very happy", "bye"),
    ("hey there", "are you a bot?", "I am sad", "yes", "see you"),
    ("hi", "very sad", "no", "bye"),
)

# Free text typed inside a story (English and French, child style).
STORY_FREE_TEXT = (
    "i'd block him",
    "I'd tell my mum",
    "she should tell her dad",
    "block and report",
    "je le dis a ma mere",
    "jle bloque",
    "ignore him and keep playing",
    "non merci",
)
# Answers typed at a rehearsal step ("write what you would answer").
REHEARSAL_TEXT = (
    "No, I don't share that. I'm telling my mum",
    "no thanks, stop asking or I block you",
    "non je te dis pas, je vais le dire a mes parents",
    "I won't send anything",
)
MENU_FREE_TEXT = ("slt", "hi", "/help", "salut ca va", "hello lumi")


def _buttons(reply: list[dict[str, Any]]) -> list[str]:
    return [
        str(button.get("payload", ""))
        for message in reply
        for button in (message.get("buttons") or [])
        if button.get("payload")
    ]


def _custom(reply: list[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    for message in reply:
        custom = message.get("custom")
        if isinstance(custom, dict) and custom.get("kind") == kind:
            return custom
    return None


class Script:
    """What one conversation says next, given the assistant's last reply."""

    def next_message(self, last_reply: list[dict[str, Any]] | None) -> str:
        raise NotImplementedError

    def check(self, reply: list[dict[str, Any]]) -> str | None:
        """An error kind when a 200 reply shows the assistant failed, else None."""
        return None


class StockScript(Script):
    """The stock ``rasa init`` bot: greet, tell a mood, answer, say bye."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.queue: list[str] = []

    def next_message(self, last_reply: list[dict[str, Any]] | None) -> str:
        if not self.queue:
            self.queue = list(self.rng.choice(STOCK_PATHS))
        return self.queue.pop(0)


class LumiScript(Script):
    """A child using Lumi: menu, story list, a story played to its end, again.

    Story buttons are taken from the previous reply; sometimes the child types
    instead (English or French), and at rehearsal steps writes an answer.
    """

    MAX_STORY_TURNS = 30

    def __init__(self, rng: random.Random, free_text_rate: float = 0.15) -> None:
        self.rng = rng
        self.free_text_rate = free_text_rate
        self.stories: list[str] = []
        self.phase = "start"
        self.story_turns = 0
        self.stories_finished = 0

    def check(self, reply: list[dict[str, Any]]) -> str | None:
        # Rasa's replies carry the recipient; the channel's own apology when the
        # assistant failed (an exception in a turn) does not: count it as an error.
        if not any(isinstance(m, dict) and "recipient_id" in m for m in reply):
            return "fallback_reply"
        return None

    def next_message(self, last_reply: list[dict[str, Any]] | None) -> str:
        reply = last_reply or []
        listing = _custom(reply, "story_list")
        if listing:
            self.stories = [str(story["id"]) for story in listing.get("stories", [])]
        if self.phase == "story" and _custom(reply, "story_end"):
            self.stories_finished += 1
            self.phase = "after_story"
        rng = self.rng
        if self.phase == "start":
            self.phase = "list"
            return "/start" if rng.random() < 0.7 else rng.choice(MENU_FREE_TEXT)
        if self.phase == "after_story":
            self.phase = "list"
            roll = rng.random()
            if roll < 0.2:
                return "/help"
            if roll < 0.3:
                self.phase = "start"
                return "/start"
        if self.phase == "list":
            self.phase = "pick"
            return "/list_stories"
        if self.phase == "pick" or not self.stories:
            self.phase = "story"
            self.story_turns = 0
            story_id = rng.choice(self.stories) if self.stories else "follower_bribe"
            return "/start_story" + json.dumps({"story_id": story_id}, separators=(",", ":"))
        # inside a story
        self.story_turns += 1
        choices = [p for p in _buttons(reply) if p.startswith("/story_choice")]
        if self.story_turns > self.MAX_STORY_TURNS or not choices:
            # lost (an unexpected reply): back to the menu
            self.phase = "list"
            return "/start"
        rehearsal = all('"show_example"' in payload for payload in choices)
        if rehearsal:
            if rng.random() < 0.8:
                return rng.choice(REHEARSAL_TEXT)
            return choices[0]
        if rng.random() < self.free_text_rate:
            return rng.choice(STORY_FREE_TEXT)
        return rng.choice(choices)


def make_script(bot: str, rng: random.Random) -> Script:
    return StockScript(rng) if bot == "stock" else LumiScript(rng)


# --- measuring ----------------------------------------------------------------------------------


@dataclass
class Sample:
    started: float  # perf_counter at send
    latency: float  # seconds, send to whole body received
    status: int  # HTTP status, 0 when the request failed
    error: str | None  # None, "http_429", "http_500", "timeout", "ClientOSError"...
    message_kind: str  # "payload" or "text"
    sender: str = ""  # the conversation


@dataclass
class Conversation:
    sender: str
    script: Script
    last_reply: list[dict[str, Any]] | None = None
    last_sent: float = -1e9


@dataclass
class ScenarioResult:
    name: str
    bot: str
    users: int
    samples: list[Sample] = field(default_factory=list)
    wall_s: float = 0.0
    pacing_wait_s: float = 0.0
    stories_finished: int = 0
    senders: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        ok = sorted(s.latency for s in self.samples if s.error is None)
        errors: dict[str, int] = {}
        for sample in self.samples:
            if sample.error:
                errors[sample.error] = errors.get(sample.error, 0) + 1
        total = len(self.samples)
        n_errors = sum(errors.values())

        def ms(q: float) -> float | None:
            value = percentile(ok, q)
            return None if value is None else round(value * 1000, 1)

        return {
            "scenario": self.name,
            "bot": self.bot,
            "users": self.users,
            "turns": total,
            "ok_turns": len(ok),
            "errors": n_errors,
            "error_rate": round(n_errors / total, 4) if total else None,
            "errors_by_kind": errors,
            "wall_s": round(self.wall_s, 2),
            "turns_per_s": round(len(ok) / self.wall_s, 2) if self.wall_s else None,
            "p50_ms": ms(50),
            "p95_ms": ms(95),
            "p99_ms": ms(99),
            "mean_ms": round(sum(ok) / len(ok) * 1000, 1) if ok else None,
            "max_ms": round(ok[-1] * 1000, 1) if ok else None,
            "p50_ms_payload": _p50_ms(self.samples, "payload"),
            "p50_ms_text": _p50_ms(self.samples, "text"),
            "pacing_wait_s": round(self.pacing_wait_s, 2),
            "stories_finished": self.stories_finished,
        }


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not sorted_values:
        return None
    if len(sorted_values) == 1:
        return sorted_values[0]
    position = (len(sorted_values) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def _p50_ms(samples: list[Sample], kind: str) -> float | None:
    values = sorted(s.latency for s in samples if s.error is None and s.message_kind == kind)
    value = percentile(values, 50)
    return None if value is None else round(value * 1000, 1)


class Driver:
    """Sends turns to one assistant and records each one."""

    def __init__(self, base_url: str, bot: str, seed: int = 7, timeout_s: float = 60.0) -> None:
        self.url = base_url.rstrip("/") + WEBHOOK
        self.bot = bot
        self.seed = seed
        self.timeout_s = timeout_s
        self.run_id = uuid.uuid4().hex[:8]

    def _session(self, users: int):
        import aiohttp

        connector = aiohttp.TCPConnector(limit=max(10, users * 2), keepalive_timeout=3)
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        return aiohttp.ClientSession(connector=connector, timeout=timeout)

    async def _turn(self, session, conv: Conversation, result: ScenarioResult) -> None:
        import aiohttp

        message = conv.script.next_message(conv.last_reply)
        body = json.dumps({"sender": conv.sender, "message": message})
        started = time.perf_counter()
        conv.last_sent = started
        status, error, reply = 0, None, None
        try:
            async with session.post(
                self.url, data=body, headers={"Content-Type": "application/json"}
            ) as response:
                raw = await response.read()
                status = response.status
            latency = time.perf_counter() - started
            if status != 200:
                error = f"http_{status}"
            else:
                reply = json.loads(raw)
                if not isinstance(reply, list):
                    error, reply = "not_a_list", None
                elif not reply:
                    error = "empty_reply"
                else:
                    error = conv.script.check(reply)
        except asyncio.TimeoutError:
            latency, error = time.perf_counter() - started, "timeout"
        except (aiohttp.ClientError, ValueError) as exc:
            latency, error = time.perf_counter() - started, type(exc).__name__
        conv.last_reply = reply
        kind = "payload" if message.startswith("/") else "text"
        result.samples.append(Sample(started, latency, status, error, kind, conv.sender))

    async def _user(
        self,
        session,
        result: ScenarioResult,
        conversations: list[Conversation],
        *,
        stop_at: float | None,
        max_turns: int | None,
        think: tuple[float, float] | None,
        min_sender_gap: float,
        rng: random.Random,
        start_delay: float = 0.0,
        stop: Any = None,
    ) -> None:
        if start_delay:
            await asyncio.sleep(start_delay)
        turns = 0
        index = 0
        while True:
            if max_turns is not None and turns >= max_turns:
                break
            if stop_at is not None and time.perf_counter() >= stop_at:
                break
            if stop is not None and stop.is_set():
                break
            conv = conversations[index % len(conversations)]
            index += 1
            gap = conv.last_sent + min_sender_gap - time.perf_counter()
            if gap > 0:
                result.pacing_wait_s += gap
                await asyncio.sleep(gap)
            await self._turn(session, conv, result)
            turns += 1
            if stop_at is not None and time.perf_counter() >= stop_at:
                break
            if think:
                await asyncio.sleep(rng.uniform(*think))

    def _conversations(self, name: str, user: int, count: int) -> list[Conversation]:
        rng = random.Random(f"{self.seed}-{name}-{user}")
        return [
            Conversation(
                sender=f"bench-{self.run_id}-{name}-{user}-{n}",
                script=make_script(self.bot, random.Random(rng.random())),
            )
            for n in range(count)
        ]

    async def warm_up(self, turns: int = 20) -> ScenarioResult:
        """A few conversations' worth of turns, not counted; the first ones show cold costs."""
        return await self.run_scenario(
            "warm_up", users=1, conversations_per_user=4, max_turns=turns, min_sender_gap=0.55
        )

    async def run_scenario(
        self,
        name: str,
        *,
        users: int,
        conversations_per_user: int = 1,
        duration_s: float | None = None,
        max_turns: int | None = None,
        think: tuple[float, float] | None = None,
        ramp_s: float = 0.0,
        min_sender_gap: float = 0.55,
        stop: Any = None,
    ) -> ScenarioResult:
        """``stop``: an optional ``threading.Event`` that ends the scenario early."""
        result = ScenarioResult(name=name, bot=self.bot, users=users)
        convs = [self._conversations(name, u, conversations_per_user) for u in range(users)]
        result.senders = [c.sender for user in convs for c in user]
        rng = random.Random(f"{self.seed}-{name}")
        async with self._session(users) as session:
            started = time.perf_counter()
            stop_at = started + duration_s if duration_s else None
            tasks = [
                self._user(
                    session,
                    result,
                    convs[u],
                    stop_at=stop_at,
                    max_turns=max_turns,
                    think=think,
                    min_sender_gap=min_sender_gap,
                    rng=random.Random(rng.random()),
                    start_delay=rng.uniform(0, ramp_s) if ramp_s else 0.0,
                    stop=stop,
                )
                for u in range(users)
            ]
            await asyncio.gather(*tasks)
            # From the first send to the last reply (not to the end of a think time).
            ends = [s.started + s.latency for s in result.samples]
            result.wall_s = (max(ends) if ends else time.perf_counter()) - started
        result.stories_finished = sum(
            getattr(c.script, "stories_finished", 0) for user in convs for c in user
        )
        return result
