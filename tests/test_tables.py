"""Sales tables: the seeded generator, the reference facts and the renderings."""

import numpy as np
import pytest

from keras_gen.summaries import tables
from keras_gen.summaries.tables import SalesTable


def hand_table():
    # Totals by month: Jan 83, Feb 91, Mar 79, Apr 88.
    # Changes: North +2 +3 +4, East +12 -20 +6, Coast -6 +5 -1.
    return SalesTable(
        ("North", "East", "Coast"),
        ("Jan", "Feb", "Mar", "Apr"),
        np.array([[20, 22, 25, 29], [40, 52, 32, 38], [23, 17, 22, 21]]),
    )


def test_same_seed_same_tables_other_seed_other_tables():
    a, b = tables.make_tables(20, seed=3), tables.make_tables(20, seed=3)
    assert a == b
    assert a != tables.make_tables(20, seed=4)


def test_generated_tables_respect_their_ranges_and_are_unambiguous():
    drawn = tables.make_tables(300, seed=0)
    for t in drawn:
        assert 3 <= len(t.regions) <= 4 and 4 <= len(t.months) <= 6
        assert len(set(t.regions)) == len(t.regions)
        assert set(t.regions) <= set(tables.REGION_NAMES)
        assert t.values.min() >= 10 and t.values.max() <= 99
        assert tables.ambiguities(t) == []
        first = tables.MONTH_NAMES.index(t.months[0])
        assert t.months == tuple(
            tables.MONTH_NAMES[(first + j) % 12] for j in range(len(t.months))
        )
    # Both directions of trend occur, and shocks make big changes.
    facts = [tables.table_facts(t) for t in drawn]
    assert {f.last_total > f.first_total for f in facts} == {True, False}
    assert max(abs(f.change) for f in facts) >= 15


def test_facts_and_summary_of_a_hand_made_table():
    facts = tables.table_facts(hand_table())
    assert (facts.first_total, facts.last_total) == (83, 88)
    assert (facts.change_region, facts.change_month, facts.change) == (
        "East",
        "Mar",
        -20,
    )
    assert (facts.leader, facts.leader_total) == ("East", 162)
    assert tables.reference_summary(hand_table()) == (
        "Total rose from 83 in Jan to 88 in Apr. "
        "Largest change: East fell by 20 in Mar. "
        "Leader: East with 162."
    )


def test_endpoints_summary_reads_only_the_first_and_last_month():
    # East moved -2 from Jan to Apr, North +9, Coast -2: North "moved most".
    assert tables.endpoints_summary(hand_table()) == (
        "Total rose from 83 in Jan to 88 in Apr. "
        "Largest change: North rose by 9 in Apr. "
        "Leader: East with 156."  # (40 + 38) / 2 * 4
    )
    # Changing a middle month changes the reference but not the endpoints one.
    t = hand_table()
    values = t.values.copy()
    values[0, 1] = 90
    changed = SalesTable(t.regions, t.months, values)
    assert tables.endpoints_summary(changed) == tables.endpoints_summary(t)
    assert tables.reference_summary(changed) != tables.reference_summary(t)


def test_render_table_and_pairs():
    text = tables.render_table(hand_table())
    assert text == (
        "Sales Jan Feb Mar Apr\nNorth 20 22 25 29\nEast 40 52 32 38\n"
        "Coast 23 17 22 21\nSummary: "
    )
    [(prompt, completion)] = tables.summary_pairs([hand_table()])
    assert prompt == text
    assert completion == tables.reference_summary(hand_table()) + "\n"


def test_worst_case_fits_the_shipped_context():
    # The longest possible pair: 4 six-letter regions, 6 months, 3-digit totals.
    worst = SalesTable(("Inland",) * 4, tables.MONTH_NAMES[:6], np.full((4, 6), 99))
    summary = tables.summary_from_facts(
        tables.Facts("Jan", "Jun", 396, 395, "Inland", "Jun", -89, "Inland", 594)
    )
    assert len(tables.render_table(worst)) + len(summary) + 1 == tables.MAX_PAIR_CHARS
    assert tables.MAX_PAIR_CHARS <= 256
    drawn = tables.summary_pairs(tables.make_tables(500, seed=1))
    assert max(len(p) + len(c) for p, c in drawn) <= tables.MAX_PAIR_CHARS


def test_ambiguous_tables_are_refused():
    tie = SalesTable(("A", "B"), ("Jan", "Feb"), np.array([[10, 20], [20, 10]]))
    assert tables.ambiguities(tie) == [
        "total unchanged",
        "two leaders",
        "two largest changes",
    ]
    with pytest.raises(ValueError, match="one right answer.*two leaders"):
        tables.table_facts(tie)
    with pytest.raises(ValueError, match="total unchanged"):
        tables.endpoints_summary(tie)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"count": 0}, "count >= 1"),
        ({"count": 2.5}, "count"),
        ({"seed": -1}, "seed"),
        ({"regions": (0, 3)}, "1 <= smallest <= largest <= 6"),
        ({"regions": (4, 3)}, "smallest <= largest"),
        ({"regions": 3}, r"regions as a \(smallest, largest\) pair"),
        ({"months": (1, 4)}, "2 <= smallest"),
        ({"months": (4, 13)}, "<= 12"),
        ({"noise": -1.0}, "noise"),
        ({"shock_probability": 1.5}, "shock_probability"),
    ],
)
def test_make_tables_bad_inputs(kwargs, message):
    with pytest.raises(ValueError, match=message):
        tables.make_tables(**{"count": 2, **kwargs})


def test_sales_table_bad_inputs():
    with pytest.raises(ValueError, match=r"shape \(regions, months\) = \(2, 2\)"):
        SalesTable(("A", "B"), ("Jan", "Feb"), np.zeros((2, 3), int))
    with pytest.raises(ValueError, match="at least 2 months"):
        SalesTable(("A",), ("Jan",), np.zeros((1, 1), int))
    with pytest.raises(ValueError, match="integer values"):
        SalesTable(("A",), ("Jan", "Feb"), np.zeros((1, 2)))
    with pytest.raises(ValueError, match="non-zero change"):
        tables.direction(0)


def test_summarize_decodes_every_table_within_the_context():
    import keras

    from keras_gen.tokenizers import CharTokenizer
    from keras_gen.transformer import build_gpt

    drawn = tables.make_tables(3, seed=2)
    text = "".join(p + c for p, c in tables.summary_pairs(drawn))
    tokenizer = CharTokenizer.train(text, byte_fallback=False)
    keras.utils.set_random_seed(0)
    model = build_gpt(tokenizer.vocab_size, 160, 16, num_heads=2, num_layers=1)
    summaries = tables.summarize(model, tokenizer, drawn, max_new_tokens=200)
    assert len(summaries) == 3 and all("\n" not in s for s in summaries)
    longest = max(len(tables.render_table(t)) for t in drawn)
    assert max(len(s) for s in summaries) <= 160 - longest
    with pytest.raises(ValueError, match="at least one table"):
        tables.summarize(model, tokenizer, [])
    with pytest.raises(ValueError, match="max_new_tokens >= 1"):
        tables.summarize(model, tokenizer, drawn, 0)


def test_summarize_names_the_table_that_fills_the_context():
    # It used to blame max_new_tokens, an argument the caller never passed.
    import keras

    from keras_gen.tokenizers import CharTokenizer
    from keras_gen.transformer import build_gpt

    drawn = tables.make_tables(3, seed=2)
    lengths = [len(tables.render_table(t)) for t in drawn]
    text = "".join(p + c for p, c in tables.summary_pairs(drawn))
    tokenizer = CharTokenizer.train(text, byte_fallback=False)
    keras.utils.set_random_seed(0)
    context = max(lengths)  # the longest table leaves no room for a summary
    model = build_gpt(tokenizer.vocab_size, context, 16, num_heads=2, num_layers=1)
    with pytest.raises(ValueError) as caught:
        tables.summarize(model, tokenizer, drawn)
    message = str(caught.value)
    assert "max_new_tokens" not in message
    assert f"context_length={context}" in message
    assert f"table {lengths.index(context)} renders to {context} tokens" in message
    assert f"at most {context - 1} tokens" in message
