"""The reports dashboard's strings (`/reports`), in English and Simplified Chinese."""

from __future__ import annotations

__all__ = ["REPORT_ENTRIES"]

REPORT_ENTRIES: dict[str, tuple[str, str]] = {
    "nav.reports": ("Reports", "数据统计"),
    "reports.title": ("Reports", "数据统计"),
    "reports.filters": ("Filters", "筛选"),
    "reports.period": ("Period", "时间范围"),
    "reports.period_7d": ("Last 7 days", "最近 7 天"),
    "reports.period_30d": ("Last 30 days", "最近 30 天"),
    "reports.period_90d": ("Last 90 days", "最近 90 天"),
    "reports.period_month": ("This month", "本月"),
    "reports.period_all": ("All time", "全部"),
    "reports.from": ("From", "开始日期"),
    "reports.to": ("To", "结束日期"),
    "reports.type": ("Type", "类型"),
    "reports.team": ("Team", "团队"),
    "reports.priority": ("Priority", "优先级"),
    "reports.any": ("Any", "全部"),
    "reports.apply": ("Apply", "应用"),
    "reports.reset": ("Reset", "重置"),
    "reports.none": ("(none)", "（无）"),
    "reports.no_data": ("No tickets match.", "没有符合条件的工单。"),
    "reports.csv": ("Download CSV", "下载 CSV"),
    "reports.json": ("JSON", "JSON"),
    "reports.chart_of": ("Chart: {title}", "图表：{title}"),
    "reports.period_note": (
        "The period applies to when tickets were created (resolved, for reports by resolution date).",
        "时间范围按工单创建时间筛选（按解决日期分组的报表按解决时间）。",
    ),
    "state_category.new": ("New", "新建"),
    "state_category.open": ("Open", "处理中"),
    "state_category.pending": ("Pending", "挂起"),
    "state_category.resolved": ("Resolved", "已解决"),
    "state_category.closed": ("Closed", "已关闭"),
}
