"""Server-rendered SVG charts: geometry computed here, drawn by a template. No JavaScript.

The chart is an ``<svg role="img">`` with a ``<title>`` and ``<desc>`` (read by screen
readers), a ``<title>`` on every bar (a tooltip with the day's figures), and the same data as a
table beside it, so nothing is only visible as a picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from storesync.orders.selectors import DaySales
from storesync.web.templatetags.storesync_ui import compact_money, format_money

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 60, 44, 16, 40  # room for the axis labels
TICKS = 4


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # the tooltip: day, orders, revenue


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class SalesChart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    bars: list[Bar]
    line_points: str  # the orders line, "x,y x,y ..."
    dots: list[tuple[float, float]]
    y_ticks: list[Tick]  # revenue, left axis
    order_ticks: list[Tick]  # orders, right axis
    x_ticks: list[Tick]
    title: str
    description: str


def nice_ceiling(value: int, ticks: int = TICKS) -> int:
    """The axis top: ``ticks`` steps of 1, 2, 2.5 or 5 times 10^n, the smallest reaching
    ``value`` (at least ``ticks``)."""
    if value <= 0:
        return ticks
    raw = value / ticks
    magnitude = 1
    while magnitude * 10 <= raw:
        magnitude *= 10
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * magnitude
        if step >= raw and step == int(step):
            return int(step) * ticks
    return 10 * magnitude * ticks


def _day_label(day: date) -> str:
    return f"{day.day} {day.strftime('%b')}"


def sales_chart(days: list[DaySales], currency: str) -> SalesChart:
    """Bars for each day's revenue, a line for its orders, axes with round ticks."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    bottom = TOP + plot_h
    top_revenue = nice_ceiling(max((d.revenue_minor for d in days), default=0))
    top_orders = nice_ceiling(max((d.orders for d in days), default=0))
    slot = plot_w / max(len(days), 1)
    bars, dots = [], []
    for i, d in enumerate(days):
        height = plot_h * d.revenue_minor / top_revenue
        x = LEFT + i * slot
        bars.append(Bar(round(x + slot * 0.15, 1), round(bottom - height, 1),
                        round(slot * 0.7, 1), round(height, 1),
                        f"{_day_label(d.day)}: {d.orders} order{'s' if d.orders != 1 else ''}, "
                        f"{format_money(d.revenue_minor, currency)}"))
        dots.append((round(x + slot / 2, 1), round(bottom - plot_h * d.orders / top_orders, 1)))
    y_ticks = [Tick(round(bottom - plot_h * k / TICKS, 1),
                    compact_money(top_revenue * k // TICKS, currency)) for k in range(TICKS + 1)]
    order_ticks = [Tick(round(bottom - plot_h * k / TICKS, 1), f"{top_orders * k / TICKS:g}")
                   for k in range(TICKS + 1)]
    # A label every 7 days from the newest backwards, so today is always labelled.
    x_ticks = [Tick(round(LEFT + i * slot + slot / 2, 1), _day_label(days[i].day))
               for i in range(len(days) - 1, -1, -7)]
    total_orders = sum(d.orders for d in days)
    total_revenue = sum(d.revenue_minor for d in days)
    best = max(days, key=lambda d: d.revenue_minor, default=None)
    description = (f"{len(days)} days: {total_orders} order{'s' if total_orders != 1 else ''}, "
                   f"{format_money(total_revenue, currency)} revenue.")
    if best is not None and best.revenue_minor:
        description += (f" Best day {_day_label(best.day)} with "
                        f"{format_money(best.revenue_minor, currency)}.")
    return SalesChart(
        WIDTH, HEIGHT, LEFT, WIDTH - RIGHT, TOP, bottom, bars,
        " ".join(f"{x},{y}" for x, y in dots), dots, y_ticks, order_ticks, x_ticks,
        title=f"Revenue and orders per day, last {len(days)} days", description=description)
