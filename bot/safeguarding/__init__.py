"""Safeguarding: the safety net that spots real-life disclosures in child text.

See ``bot.safeguarding.screen`` and docs/safeguarding.md.
"""
