"""Nothing a child types is kept in the stored conversation."""

from __future__ import annotations

import json

from bot.privacy import redact_dialogue


def test_user_text_is_removed_and_structure_kept():
    dialogue = {
        "name": "s",
        "events": [
            {"event": "action", "name": "action_listen"},
            {
                "event": "user",
                "text": "a man asks me for pics",
                "parse_data": {
                    "text": "a man asks me for pics",
                    "lumi_full_text": "a man asks me for pics",
                    "intent": {"name": "disclose_problem"},
                    "entities": [
                        {
                            "entity": "detected_language",
                            "value": "en",
                            "extractor": "ChildTextAnnotator",
                        },
                        {"entity": "x", "value": "a man", "extractor": "DIETClassifier"},
                    ],
                },
                "entities": [{"entity": "x", "value": "a man", "extractor": "DIETClassifier"}],
            },
            {"event": "bot", "text": "Thank you for telling me."},
            {
                "event": "bot",
                "text": "I found a trick: « send me a pic of zebracorn »",
                "data": {
                    "custom": {"kind": "tactic_check", "lang": "en", "tactics": ["photo_request"]}
                },
            },
        ],
    }
    out = redact_dialogue(dialogue)
    dumped = json.dumps(out)
    assert "a man" not in dumped and "pics" not in dumped
    user = out["events"][1]
    assert user["parse_data"]["intent"]["name"] == "disclose_problem"
    assert user["parse_data"]["entities"][0]["value"] == "en"
    # replies may quote the child (the checker's examples): their text goes too
    assert "zebracorn" not in dumped and out["events"][2]["text"] == ""
    assert out["events"][3]["data"]["custom"]["tactics"] == ["photo_request"]
