from pathlib import Path

from bookings import plan_geometry

STYLESHEET = Path(plan_geometry.__file__).parent / "static" / "bookings" / "plan.css"


def test_it_keeps_the_stylesheet_current():
    assert STYLESHEET.read_text() == plan_geometry.stylesheet(), (
        "run: python -m bookings.plan_geometry > bookings/static/bookings/plan.css"
    )


def test_it_names_every_position_the_stylesheet_defines():
    css = STYLESHEET.read_text()
    assert ".x269{left:26.9%}" in css
    assert ".w57{width:5.7%}" in css
    assert ".x1000{left:100%}" in css
    assert ".hours-25{--hours:25}" in css


def test_it_rounds_both_edges_so_touching_blocks_still_touch():
    # 10:00-10:20 and 10:20-11:00 on a 07:00-20:00 axis (780 minutes).
    first = plan_geometry.placed(180 / 780 * 100, 20 / 780 * 100)
    second = plan_geometry.placed(200 / 780 * 100, 40 / 780 * 100)
    assert first == "x231 w25"
    assert second == "x256 w52"


def test_it_keeps_positions_inside_the_plan():
    assert plan_geometry.placed(-3.0, 10.0) == "x0 w70"
    assert plan_geometry.placed(95.0, 10.0) == "x950 w50"
