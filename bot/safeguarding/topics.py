"""What a disclosure is about, which decides the shape of the reply.

The detection (``bot.nlu_rules``) gives every flagged message a level
(``concern`` / ``danger``) and one topic; the reply (``bot.safeguarding.reply``,
the domain responses) is chosen by both. PEDAGOGY.md, "When a child discloses":

- ``online``: someone online grooming, bribing, asking for pictures, secrecy,
  another app, a meeting: the online-safety steps (stop replying, keep the
  evidence, block and report, tell an adult);
- ``sextortion``: images threatened or demanded, money asked: those steps plus
  "don't pay, it can be stopped, it is not your fault" and image removal;
- ``self_harm``: suicidal thoughts or self-harm, the child's or a friend's: its
  own reply (feelings first, you matter, the crisis line, stay with me);
- ``self_harm_sextortion``: both at once: the crisis line and that the images
  can be stopped;
- ``worry``: a worry that is not about someone online (fear of a parent's
  reaction, bullying, trouble or abuse at home): warm support and the child
  helpline, no screenshots-and-blocking advice.
"""

from __future__ import annotations

from collections.abc import Iterable

TOPICS = ("online", "sextortion", "self_harm", "self_harm_sextortion", "worry")
DEFAULT_TOPIC = "online"

# Safety-net categories (bot.safeguarding.screen.CATEGORIES) that are about
# someone online; "abuse" and "intruder" may be either.
_ONLINE = frozenset(
    {"bribe", "pressure", "photo_request", "secrecy", "app_switch", "personal_info", "meeting"}
)


def topic_of(categories: Iterable[str], *, online: bool | None = None) -> str:
    """The topic of a disclosure from what was found in it.

    ``online`` says whether the message speaks of someone online (None: not
    known, read from the categories alone)."""
    found = set(categories)
    self_harm = "self_harm" in found
    sextortion = "sextortion" in found
    if self_harm and sextortion:
        return "self_harm_sextortion"
    if self_harm:
        return "self_harm"
    if sextortion:
        return "sextortion"
    if "worry" in found and not (found & _ONLINE):
        return "worry"
    if online is False and not (found & _ONLINE):
        return "worry"
    return DEFAULT_TOPIC
