"""IBL's behaviour definitions on real and hand-made data: the psychometric model, the session metrics, and
the training status of SWC_054's windows (the golden values of docs/analyses.md §5.4)."""

from __future__ import annotations

import numpy as np
import pytest

from chalicelib.behaviour import metrics, psychometric, statuses
from chalicelib.behaviour import trials as trials_io
from chalicelib.behaviour.training import (
    Day,
    flag_failures,
    subject_training,
    trained_criteria,
    training_status,
)
from tests.behaviour_data import (
    fit_problems,
    fit_with_fmin,
    swc_054_protocol,
    swc_054_sessions,
    swc_054_trials,
    synthetic_session,
)


def window_status(dates: list[str], ephys_dates=(), n_delay=0):
    """The status of the window (dates newest first, as the golden table lists them)."""
    oldest_first = list(reversed(dates))
    return training_status(
        {d: swc_054_trials(d) for d in oldest_first},
        [swc_054_protocol(d) for d in oldest_first],
        ephys_dates=ephys_dates,
        n_delay=n_delay,
    )


# ---- the psychometric model --------------------------------------------------------------------------


def test_the_model_is_one_half_at_the_bias_and_tends_to_its_lapse_rates():
    assert psychometric.erf_psycho_2gammas([0, 10, 0.1, 0.1], 0) == pytest.approx(0.5)
    assert psychometric.erf_psycho_2gammas([5, 10, 0.2, 0.3], 5) == pytest.approx(0.2 + 0.5 * 0.5)
    assert psychometric.erf_psycho_2gammas([0, 10, 0.1, 0.3], -1e4) == pytest.approx(0.1)
    assert psychometric.erf_psycho_2gammas([0, 10, 0.1, 0.3], 1e4) == pytest.approx(1 - 0.3)
    values = psychometric.erf_psycho_2gammas([3, 12, 0.05, 0.02], np.arange(-100, 100))
    assert np.all(np.diff(values) >= 0)


def test_the_likelihood_is_infinite_outside_the_bounds_and_lowest_at_the_truth():
    x, n = np.array([-50.0, -10, 0, 10, 50]), np.full(5, 1000.0)
    truth = np.array([2.0, 15.0, 0.1, 0.05])
    p = psychometric.erf_psycho_2gammas(truth, x)
    low, high = np.array([-50.0, 0, 0, 0]), np.array([50.0, 100, 1, 1])
    at_truth = psychometric.neg_log_likelihood(truth, x, n, p, low, high)
    assert psychometric.neg_log_likelihood(np.array([2.0, 15, 1.5, 0]), x, n, p, low, high) == 1e7
    assert psychometric.neg_log_likelihood(truth + [3, 0, 0, 0], x, n, p, low, high) > at_truth


def test_a_fit_recovers_the_parameters_of_ideal_data_and_is_reproducible():
    x = np.array([-100, -25, -12.5, -6.25, 0, 6.25, 12.5, 25, 100])
    truth = np.array([-4.0, 12.0, 0.08, 0.12])
    p = psychometric.erf_psycho_2gammas(truth, x)
    pars, _ = psychometric.fit(x, np.full(x.size, 10_000), p)
    np.testing.assert_allclose(pars, truth, rtol=2e-2, atol=2e-3)
    again, _ = psychometric.fit(x, np.full(x.size, 10_000), p)
    np.testing.assert_array_equal(pars, again)


@pytest.mark.parametrize("settings", [psychometric.STATUS, psychometric.PLOTTING], ids=["status", "plotting"])
def test_a_fit_finds_exactly_what_fmin_finds_from_each_start(settings):
    """The optimiser runs a fit's restarts side by side; each restart takes fmin's steps, so the answer is
    psychofit's, bit for bit, on real and on small noisy sessions."""
    for contrasts, counts, p_right in fit_problems():
        expected = fit_with_fmin(contrasts, counts, p_right, settings, np.random.RandomState(0))
        found = psychometric.fit(contrasts, counts, p_right, settings, np.random.RandomState(0))
        np.testing.assert_array_equal(found[0], expected[0])
        assert found[1] == expected[1]


def test_an_empty_block_has_no_fit():
    session = synthetic_session(200, blocks=(0.5,))
    assert np.isnan(metrics.fit_psychometric(session, block=0.2)).all()


# ---- session metrics on hand-made sessions -----------------------------------------------------------


def hand_made() -> trials_io.Trials:
    """Four trials: easy left correct, easy right wrong, 25 % right correct, 0 % no-go."""
    return trials_io.check(
        {
            "contrastLeft": np.array([1.0, np.nan, np.nan, 0.0]),
            "contrastRight": np.array([np.nan, 1.0, 0.25, np.nan]),
            "choice": np.array([1.0, 1.0, -1.0, 0.0]),
            "feedbackType": np.array([1.0, -1.0, 1.0, -1.0]),
            "probabilityLeft": np.array([0.5, 0.5, 0.2, 0.8]),
            "stimOn_times": np.array([0.0, 10.0, 20.0, 30.0]),
            "response_times": np.array([0.5, 11.0, 21.5, 90.0]),
        }
    )


def test_session_metrics_on_a_hand_made_session():
    session = hand_made()
    np.testing.assert_array_equal(trials_io.signed_contrast(session), [-100, 100, 25, 0])
    assert metrics.n_trials(session) == 4
    assert metrics.performance_easy(session) == 0.5
    assert metrics.performance(session) == 0.5
    assert metrics.median_response_time(session, contrast=0) == 60.0
    assert metrics.median_response_time(session) == pytest.approx(1.25)
    assert np.isnan(metrics.median_response_time(session, contrast=12.5))
    choices = metrics.rightward_choices(session)
    np.testing.assert_array_equal(choices.contrasts, [-100, 0, 25, 100])
    np.testing.assert_array_equal(choices.p_right, [0, 0, 1, 0])
    assert metrics.rightward_choices(session, block=0.2).contrasts.tolist() == [25]


def test_a_session_without_easy_trials_has_no_easy_performance():
    session = {k: v[2:] for k, v in hand_made().items()}
    assert np.isnan(metrics.performance_easy(session))


def test_rolling_median_over_ten_trials():
    values = np.arange(20, dtype=float)
    rolled = metrics.rolling_median(values)
    assert rolled[0] == 0 and rolled[9] == 4.5 and rolled[19] == 14.5


def test_rolling_median_ignores_nans_and_is_the_median_of_each_window():
    rng = np.random.default_rng(0)
    values = rng.lognormal(0, 1, 300)
    values[rng.random(300) < 0.3] = np.nan
    values[:12] = np.nan  # windows with no value at all
    rolled = metrics.rolling_median(values)
    for i in range(values.size):
        window = values[max(0, i - 9) : i + 1]
        finite = window[np.isfinite(window)]
        assert (np.isnan(rolled[i]) and finite.size == 0) or rolled[i] == np.median(finite)
    assert metrics.rolling_median(np.array([])).size == 0


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda t: t.pop("choice"), "missing choice"),
        (lambda t: t.update(choice=t["choice"][:-1]), "differ in length"),
        (lambda t: t.update(choice=np.array([1.0, 2.0, -1.0, 0.0])), "choice must be -1, 0 or 1"),
        (lambda t: t.update(contrastLeft=np.array([1.5, np.nan, np.nan, 0])), "between 0 and 1"),
        (lambda t: t.update(feedbackType=np.array([1.0, 0.0, 1.0, -1.0])), "feedbackType"),
        (lambda t: t.update(choice=np.array(["a", "b", "c", "d"])), "choice must be one number"),
    ],
)
def test_malformed_trials_are_refused_with_the_attribute_named(change, message):
    session = dict(hand_made())
    change(session)
    with pytest.raises(trials_io.MalformedTrials, match=message):
        trials_io.check(session)


def test_an_unreadable_table_is_malformed_not_a_crash():
    with pytest.raises(trials_io.MalformedTrials, match="not a readable Parquet"):
        trials_io.read_table(b"not parquet", "alf/_ibl_trials.table.pqt")


# ---- the golden windows of SWC_054 (§5.4) ------------------------------------------------------------


def test_in_training_window_matches_ibls_own_test():
    result = window_status(["2020-08-25", "2020-08-24", "2020-08-21"])
    assert result.status == "in training"
    np.testing.assert_allclose(result.info["perf_easy"][::-1], [0.91489362, 0.9, 0.90853659], rtol=1e-6)
    np.testing.assert_array_equal(result.info["n_trials"][::-1], [617, 532, 719])
    # the note rounds IBL's values to 5-6 digits (0.019145 for 0.0191451...): 2e-5 leaves room for that only
    np.testing.assert_allclose(result.info["psych"], [4.04487, 21.62939, 0.019145, 0.172670], rtol=2e-5)
    assert result.info["rt"] == pytest.approx(0.83655, rel=1e-4)
    assert result.criteria["Criteria"] == {"val": "trained_1a", "pass": False}
    assert result.criteria["Threshold"]["pass"] is False and result.criteria["Bias"]["pass"] is True


def test_trained_1a_window():
    result = window_status(["2020-08-26", "2020-08-25", "2020-08-24"])
    assert result.status == "trained 1a"
    np.testing.assert_allclose(result.info["perf_easy"][::-1], [0.9609, 0.9149, 0.9], atol=1e-4)
    np.testing.assert_array_equal(result.info["n_trials"][::-1], [752, 617, 532])
    np.testing.assert_allclose(result.info["psych"], [0.815, 11.04, 0.059, 0.150], rtol=2e-3, atol=1e-3)
    assert result.info["rt"] == pytest.approx(0.677, abs=1e-3)
    assert result.criteria["Criteria"]["val"] == "trained_1b"


def test_trained_1b_window():
    result = window_status(["2020-08-27", "2020-08-26", "2020-08-25"])
    assert result.status == "trained 1b"
    np.testing.assert_allclose(result.info["perf_easy"][::-1], [0.9787, 0.9609, 0.9149], atol=1e-4)
    np.testing.assert_allclose(result.info["psych"], [0.153, 11.20, 0.046, 0.099], rtol=2e-3, atol=1e-3)
    assert result.info["rt"] == pytest.approx(0.773, abs=1e-3)
    assert result.criteria["Criteria"] == {"val": "ready4ephysrig", "pass": False}


def test_mixed_protocols_window_is_trained_1b():
    assert window_status(["2020-08-31", "2020-08-28", "2020-08-27"]).status == "trained 1b"


def test_ready4ephysrig_window():
    result = window_status(["2020-09-01", "2020-08-31", "2020-08-28"])
    assert result.status == "ready4ephysrig"
    np.testing.assert_allclose(result.info["psych_20"], [-2.79, 13.10, 0.053, 0.049], rtol=5e-3, atol=1e-3)
    np.testing.assert_allclose(result.info["psych_80"], [2.61, 12.03, 0.036, 0.087], rtol=5e-3, atol=1e-3)
    assert result.info["psych_80"][0] - result.info["psych_20"][0] == pytest.approx(5.40, abs=0.01)
    assert result.info["rt"] == pytest.approx(0.374, abs=1e-3)


def test_ready4delay_window_with_one_ephys_rig_date():
    result = window_status(["2020-09-03", "2020-09-02", "2020-08-31"], ephys_dates=["2020-09-03"])
    assert result.status == "ready4delay"


def test_ready4recording_window_with_three_ephys_dates_and_a_delay():
    dates = ["2020-09-01", "2020-08-31", "2020-08-28"]
    result = window_status(dates, ephys_dates=dates, n_delay=1)
    assert result.status == "ready4recording"
    assert result.criteria["Criteria"] == {"val": "ready4recording", "pass": True}


def test_without_a_delay_three_ephys_dates_are_ready4delay_only():
    dates = ["2020-09-01", "2020-08-31", "2020-08-28"]
    result = window_status(dates, ephys_dates=dates, n_delay=0)
    assert result.status == "ready4delay"
    assert result.criteria["N_delay"]["pass"] is False


# ---- the subject's table -----------------------------------------------------------------------------


def swc_054_days() -> list[Day]:
    return [
        Day(
            date=s["date"],
            eids=[f"eid-{s['date']}"],
            session_paths=[f"SWC_054/{s['date']}/001"],
            protocol=statuses.protocol_family(s["task_protocol"]),
            task_protocol=s["task_protocol"],
            load=lambda date=s["date"]: swc_054_trials(date),
            fingerprint=s["date"],
        )
        for s in swc_054_sessions()
    ]


@pytest.fixture(scope="module")
def swc_054_table():
    return subject_training(swc_054_days())


def test_swc_054_reaches_each_status_on_ibls_dates(swc_054_table):
    rows, _ = swc_054_table
    by_date = {r["date"]: r["training_status"] for r in rows}
    assert by_date["2020-08-25"] == "in training"
    assert by_date["2020-08-26"] == "trained 1a"
    assert by_date["2020-08-27"] == "trained 1b"
    assert by_date["2020-08-28"] == "trained 1b"
    assert by_date["2020-09-01"] == "ready4ephysrig"
    assert by_date["2020-09-04"] == "ready4ephysrig"  # no ephys rig: no further, and no regression
    criteria = trained_criteria(rows)
    assert criteria["trained_1a"] == ["2020-08-26", "eid-2020-08-26"]
    assert criteria["trained_1b"] == ["2020-08-27", "eid-2020-08-27"]
    assert criteria["ready4ephysrig"] == ["2020-09-01", "eid-2020-09-01"]
    assert [r["training_day"] for r in rows] == list(range(1, 12))


def test_the_table_holds_each_dates_metrics_and_block_fits(swc_054_table):
    rows, _ = swc_054_table
    first, biased = rows[0], rows[7]
    assert first["n_trials"] == 719 and first["performance_easy"] == pytest.approx(0.90853659)
    assert not np.isnan(first["bias_50"]) and np.isnan(first["bias_20"])  # training: one fit, all trials
    assert all(not np.isnan(biased[f"bias_{b}"]) for b in (50, 20, 80))
    assert biased["bias_80"] > biased["bias_20"]
    assert len(first["contrasts"]) == len(first["performance"])


def test_a_late_session_recomputes_from_its_date_and_keeps_the_rows_before(swc_054_table):
    rows_all, _ = swc_054_table
    days = swc_054_days()[:6]
    without = [d for d in days if d.date != "2020-08-26"]
    first, _ = subject_training(without)
    loaded = []
    for day in days:
        original = day.load
        day.load = lambda original=original, date=day.date: loaded.append(date) or original()
    rows, assessed = subject_training(days, previous=first)
    assert min(assessed) == "2020-08-26"
    assert not any(date < "2020-08-24" for date in loaded)  # rows before the first window are kept
    assert [r["training_status"] for r in rows] == [r["training_status"] for r in rows_all[:6]]
    unchanged, assessed = subject_training(days, previous=rows)
    assert assessed == {} and unchanged == rows


def status_rows(statuses_: list[str], protocol: str = "training") -> list[dict]:
    return [
        {"date": f"d{i:03d}", "eid": f"e{i}", "n_sessions": 1, "protocol": protocol, "training_status": s}
        for i, s in enumerate(statuses_)
    ]


def test_forty_sessions_in_training_make_the_fortieth_untrainable():
    rows = status_rows(["in training"] * 42)
    flag_failures(rows)
    assert [r["training_status"] for r in rows] == ["in training"] * 39 + ["untrainable"] + [
        "in training"
    ] * 2
    assert trained_criteria(rows)["untrainable"] == ["d039", "e39"]
    flag_failures(rows)  # computing again moves nothing
    assert [r["date"] for r in rows if r["training_status"] == "untrainable"] == ["d039"]


def test_thirty_nine_sessions_in_training_are_not_untrainable():
    rows = status_rows(["in training"] * 39 + ["trained 1a"] * 5)
    flag_failures(rows)
    assert "untrainable" not in trained_criteria(rows)


def test_forty_biased_sessions_without_ready4ephysrig_make_the_fortieth_unbiasable():
    rows = status_rows(["trained 1b"] * 41, protocol="biased")
    flag_failures(rows)
    assert rows[39]["training_status"] == "unbiasable"
    assert trained_criteria(rows)["unbiasable"] == ["d039", "e39"]


def test_reaching_ready4ephysrig_within_forty_biased_sessions_is_never_unbiasable():
    rows = status_rows(["trained 1b"] * 39 + ["ready4ephysrig"] * 3, protocol="biased")
    flag_failures(rows)
    assert "unbiasable" not in trained_criteria(rows)


def _days(makes, protocol="training") -> list[Day]:
    return [
        Day(
            date=f"2021-01-{1 + i:02d}",
            eids=[f"e{i}"],
            session_paths=[f"S/{i}"],
            protocol=protocol,
            task_protocol=f"_iblrig_tasks_{protocol}ChoiceWorld6.4.2",
            load=lambda make=make, i=i: make(i),
            fingerprint=str(i),
        )
        for i, make in enumerate(makes)
    ]


def untrainable_mouse(i):
    return synthetic_session(300, threshold=40, lapse=0.3, seed=i)


def test_a_mouse_that_never_learns_stays_in_training_with_the_criteria_it_misses():
    rows, assessed = subject_training(_days([untrainable_mouse] * 3))
    assert [r["training_status"] for r in rows] == ["in training"] * 3
    criteria = assessed[rows[-1]["date"]].criteria
    assert criteria["Criteria"] == {"val": "trained_1a", "pass": False}
    assert criteria["LapseLow_50"]["pass"] is False and criteria["N_trials"]["pass"] is True


def test_a_biased_mouse_without_a_bias_shift_stays_trained_1b():
    def biased(i):
        return synthetic_session(500, perf_easy=0.97, lapse=0.02, blocks=(0.2, 0.8), shift=0.0, seed=i)

    rows, assessed = subject_training(_days([biased] * 3, protocol="biased"))
    assert rows[-1]["training_status"] == "trained 1b"
    assert assessed[rows[-1]["date"]].criteria["Bias_shift"]["pass"] is False


def test_a_status_never_regresses():
    def good(i):
        return synthetic_session(600, threshold=8, lapse=0.02, perf_easy=0.97, seed=i)

    rows, _ = subject_training(_days([good] * 3 + [untrainable_mouse] * 2))
    assert [r["training_status"] for r in rows][2:] == ["trained 1b"] * 3
