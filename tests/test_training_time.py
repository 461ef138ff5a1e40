"""The paper's Fig. 2 analysis (chalicelib/analyses/training_time) on hand-made mice: each of the 20
features, training time, the quartile labels, the scores, and which mice are excluded and why."""

from __future__ import annotations

import datetime
import math

import numpy as np
import pandas as pd
import pytest

from chalicelib.analyses.training_time import features, model
from chalicelib.analyses.training_time.cohort import early_days, training_time
from chalicelib.analyses.training_time.records import DayData, MouseData, SessionData
from chalicelib.behaviour import metrics
from chalicelib.colony.vocabulary import FOODS
from onecloud.demo.colony import DemoMouse, make_colony

START = datetime.date(2020, 1, 6)


def trials(n: int, easy_rt: float = 0.5, hard_rt: float = 2.0, duration: float = 1800.0) -> dict:
    """n trials alternating 100 % left, 25 % right, 50 % right, 0 %, with their response times."""
    left = np.array([1.0, np.nan, np.nan, 0.0] * n)[:n]
    right = np.array([np.nan, 0.25, 0.5, np.nan] * n)[:n]
    stim_on = np.arange(n) * 10.0
    easy = np.nan_to_num(left) + np.nan_to_num(right) >= 0.5
    starts = np.linspace(0, duration, n)
    return {
        "contrastLeft": left,
        "contrastRight": right,
        "stimOn_times": stim_on,
        "response_times": stim_on + np.where(easy, easy_rt, hard_rt),
        "intervals": np.c_[starts, starts + 5],
    }


def day(k: int, status: str = "in training", performance: float = 0.5, n: int = 100, **kwargs) -> DayData:
    date = (START + datetime.timedelta(days=k - 1)).isoformat()
    wheel = kwargs.pop("wheel", (np.array([0.0, 1.0, 0.5, 2.0]), np.arange(4.0)))
    ambient = kwargs.pop("ambient", None)
    session = SessionData(f"eid-{k}", f"{date}T10:00:00", trials(n, **kwargs), wheel, ambient)
    return DayData(date, status, k, performance, [session])


def mouse(days: list[DayData], **kwargs) -> MouseData:
    first = days[0].date if days else START.isoformat()
    defaults = dict(
        nickname="M1",
        lab="lab",
        sex="F",
        birth_date="2019-11-06",
        light_cycle=1,
        food_protein_pct=20.0,
        weighings=[(f"{first}T09:00:00", 22.0), (f"{first}T17:00:00", 21.0)],
        restrictions=[("2019-12-20T10:00:00", 20.0), ("2020-01-01T10:00:00", 25.0)],
        water=[],
        days=days,
    )
    return MouseData(**{**defaults, **kwargs})


PERFORMANCE = (0.2, 0.3, 0.25, 0.5, 0.6)


def learner(trained_on: int = 8, **kwargs) -> MouseData:
    days = [day(k, performance=PERFORMANCE[k - 1] if k <= 5 else 0.85) for k in range(1, trained_on)]
    days.append(day(trained_on, status="trained 1a", performance=0.9))
    return mouse(days, **kwargs)


def test_five_days_of_easy_performance_give_its_change_and_the_mean_sign_of_daily_change():
    _, days = early_days(learner().days)
    assert features.perf_init(days) == 0.2
    assert features.perf_delta1(days) == pytest.approx(0.4)
    assert features.delta_variance(days) == 0.5  # (+1 - 1 + 1 + 1) / 4


def test_training_time_counts_the_dates_before_the_first_trained_one():
    trained = training_time(learner(trained_on=12).days)
    assert (trained.sessions, trained.date) == (11, "2020-01-17")
    habituation = DayData("2020-01-05", "habituation", None, math.nan)
    assert training_time([habituation, *learner(trained_on=12).days]).sessions == 12
    assert training_time([day(k) for k in range(1, 9)]) is None
    later = [*learner(trained_on=6).days, day(7, status="ready4ephysrig")]
    assert training_time(later).sessions == 5  # a later status never comes first


def test_metadata_features():
    m = learner()
    values = features.mouse_features(m, training_time(m.days)).values
    assert values["sex"] == 1 and features.sex(mouse([], sex="M")) == 0
    assert values["age_start"] == 61  # 2019-11-06 to 2020-01-06
    assert values["weight_start"] == 21.5  # mean of the day's two weighings
    assert values["weight_loss"] == pytest.approx(21.5 / 25)  # the last restriction before day 1
    assert values["light"] == 1 and values["food"] == 20


def test_weekend_water_is_citric_acid_water_before_the_trained_date():
    m = learner(trained_on=8)  # trained 2020-01-13
    assert features.weekend_water([("2020-01-11T10:00:00", "Water 2% Citric Acid")], "2020-01-13") == 1
    assert features.weekend_water([("2020-01-13T10:00:00", "Citric Acid Water 3%")], "2020-01-13") == 0
    assert features.weekend_water([("2020-01-11T10:00:00", "Water")], "2020-01-13") == 0
    assert features.mouse_features(m, training_time(m.days)).values["weekend_water"] == 0


def test_trial_count_and_response_time_features():
    days = [day(k, n=100 + 50 * (k - 1), easy_rt=1.0 - 0.1 * (k - 1)) for k in range(1, 6)]
    _, early = early_days(days)
    assert features.trials_init(early) == 100
    assert features.trials_delta1(early) == 200
    assert features.trials_sum(early) == 100 + 150 + 200 + 250 + 300
    assert features.rt_init(early) == pytest.approx(1.0)  # 50 % and 100 % trials only
    assert features.rt_delta1(early) == pytest.approx(-0.4)


def test_trials_init_is_the_longest_session_of_the_day():
    first = day(1, n=120)
    first.sessions.append(SessionData("eid-1b", f"{first.date}T14:00:00", trials(300)))
    assert features.trial_count(first) == 300


def test_wheel_features_average_the_sessions_of_the_five_days():
    # distance |1| + |-0.5| + |1.5| = 3 rad, displacement 2 rad, duration: last trial start 1800 s
    days = {k: day(k) for k in range(1, 6)}
    moves, displacement = features.wheel(days)
    assert moves == pytest.approx(3 / 1800)
    assert displacement == pytest.approx(2 / 3)
    days[2].sessions[0].wheel = (np.array([0.0, -1.0]), np.arange(2.0))  # 1 rad over 1800 s, all net
    moves, displacement = features.wheel(days)
    assert moves == pytest.approx((4 * 3 / 1800 + 1 / 1800) / 5)
    assert displacement == pytest.approx((4 * 2 / 3 + 1) / 5)


def test_ambient_features_median_of_session_means_up_to_trained_or_mean_of_the_first_five_days():
    temperatures = [20.0, 21.0, 22.0, 23.0, 24.0, 30.0, 31.0, 32.0]
    days = [day(k, ambient={"Temperature_C": t, "RelativeHumidity": 40.0, "AirPressure_mb": 1000.0})
            for k, t in enumerate(temperatures, 1)]  # fmt: skip
    days[-1].status = "trained 1a"
    days.append(day(9, status="trained 1b", ambient={"Temperature_C": 50.0}))
    m = mouse(days)
    paper = features.mouse_features(m, training_time(m.days), "paper").values
    methods = features.mouse_features(m, training_time(m.days), "methods").values
    assert paper["temperature_c"] == np.median(temperatures)  # 23.5, day 9 left out
    assert methods["temperature_c"] == np.mean(temperatures[:5])  # 22
    assert paper["relative_humidity"] == 40 and paper["air_pressure_mb"] == 1000


def test_every_feature_is_a_column_in_alphabetical_order():
    assert len(features.COLUMNS) == 20 and list(features.COLUMNS) == sorted(features.COLUMNS)
    assert features.COLUMNS[:3] == ("RT_delta1", "RT_init", "age_start")


def test_quartiles_with_ties_go_to_the_lower_quartile():
    cuts, labels = model.quartiles([5, 10, 10, 10, 15, 20, 30, 40])
    assert cuts == [10.0, 12.5, 22.5]  # linear interpolation, as pandas
    assert labels.tolist() == [1, 1, 1, 1, 3, 3, 4, 4]  # 10 <= q25: quartile 1; 15 in (q50, q75]
    assert cuts == pd.Series([5, 10, 10, 10, 15, 20, 30, 40]).quantile([0.25, 0.5, 0.75]).tolist()
    cuts, labels = model.quartiles([7, 7, 7, 7])
    assert labels.tolist() == [1, 1, 1, 1]


def test_micro_f1_is_accuracy():
    rng = np.random.RandomState(1)
    truth, guess = rng.randint(1, 5, 50), rng.randint(1, 5, 50)
    assert model.f1(truth, guess) == pytest.approx(np.mean(truth == guess))


def _ambient(m: MouseData) -> MouseData:
    for d in m.days:
        for s in d.sessions:
            s.ambient = {"Temperature_C": 21.0, "RelativeHumidity": 45.0, "AirPressure_mb": 1010.0}
    return m


def test_mice_with_missing_data_are_excluded_with_the_reason():
    complete = _ambient(learner(nickname="complete"))
    no_first = _ambient(learner(nickname="late"))
    for d in no_first.days:
        d.training_day = d.training_day + 1  # its first training day went missing
    no_restriction = _ambient(learner(nickname="dry", restrictions=[]))
    no_weight = _ambient(learner(nickname="light", weighings=[]))
    never = _ambient(mouse([day(k) for k in range(1, 9)], nickname="never"))
    late = _ambient(learner(nickname="slow", trained_on=30))
    matrix = model.design_matrix([complete, no_first, no_restriction, no_weight, never, late], "2020-01-20")
    assert [row["mouse"] for row in matrix.rows] == ["complete"]
    reasons = {e["mouse"]: e["reason"] for e in matrix.excluded}
    assert reasons == {
        "late": "missing first session (its first training day is day 2)",
        "dry": "no water restriction started before the first training day (2020-01-06)",
        "light": "no weighing on the first training day (2020-01-06)",
        "never": "never trained",
        "slow": "trained on 2020-02-04, after the cut-off 2020-01-20",
    }
    row = matrix.rows[0]
    assert row["training_time"] == 7 and row["perf_delta1"] == pytest.approx(0.4)


def test_a_mouse_trained_before_its_fifth_training_day_misses_days():
    m = _ambient(learner(trained_on=4))
    found = features.mouse_features(m, training_time(m.days))
    assert found.missing == {"training days": "no training day 4, 5 before trained"}


def demo_records(mouse: DemoMouse) -> MouseData:
    """A demo mouse as the job gathers it: the statuses the criteria gave, its files' contents."""
    days = []
    for session in mouse.sessions:
        d = session.day
        trials = {k: v for k, v in d.trials.items() if not k.startswith("intervals")}
        trials["intervals"] = np.c_[d.trials["intervals_0"], d.trials["intervals_1"]]
        means = dict(
            zip(("Temperature_C", "AirPressure_mb", "RelativeHumidity"), d.ambient.mean(0), strict=True)
        )
        data = SessionData(f"{mouse.nickname}-{d.index}", session.start.isoformat(), trials, d.wheel, means)
        performance = metrics.performance_easy(d.trials)
        days.append(DayData(session.date.isoformat(), d.status, d.training_day, performance, [data]))
    return MouseData(
        nickname=mouse.nickname,
        lab=mouse.lab.name,
        sex=mouse.sex,
        birth_date=mouse.birth_date.isoformat(),
        light_cycle=mouse.lab.light_cycle,
        food_protein_pct=FOODS[mouse.lab.food],
        weighings=[(t.isoformat(), w) for t, w in mouse.weighings],
        restrictions=[(mouse.restriction_start.isoformat(), mouse.reference_weight)]
        if mouse.restriction_start
        else [],
        water=[(t.isoformat(), kind) for t, kind, _ in mouse.water],
        days=days,
    )


def test_on_the_demo_cohort_the_full_classifier_beats_its_shuffles_and_performance_change_ranks_first():
    matrix = model.design_matrix([demo_records(m) for m in make_colony(100, seed=0)])
    assert len(matrix.rows) > 80 and matrix.excluded  # a few mice miss a weighing or a restriction
    results = model.analyse(matrix, seed=0, shuffles=5)
    shuffled = np.median(results["shuffled_f1"]["full"])
    assert results["f1"]["full"] > shuffled + 0.1, (results["f1"], shuffled)
    assert results["ranking"][0] == "perf_delta1", {c: np.median(v) for c, v in results["importance"].items()}
    assert results["class_sizes"] == [int(np.sum(np.array(results["labels"]) == q)) for q in (1, 2, 3, 4)]
    assert np.allclose(np.sum(results["confusion_matrix"], axis=1), 1)


def test_a_run_is_reproducible_from_its_seed():
    rng = np.random.RandomState(3)
    rows = [
        {
            "mouse": f"M{i}",
            "training_time": int(rng.randint(5, 40)),
            **{c: rng.rand() for c in features.COLUMNS},
        }
        for i in range(20)
    ]
    first, again = (model.analyse(model.DesignMatrix(rows), seed=7, shuffles=1) for _ in range(2))
    assert first == again
