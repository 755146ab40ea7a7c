"""The one translation table: every user-facing label in Chinese (default) and English."""

from __future__ import annotations

import math
from typing import Final

from monitor.i18n_web import WEB_LABELS

LABELS: Final[dict[str, tuple[str, str]]] = {
    **WEB_LABELS,
    # carrier kinds
    "kind.innovation_zone": ("创新区", "Innovation zone"),
    "kind.high_tech_zone": ("高新区", "High-tech zone"),
    "kind.development_zone": ("开发区", "Development zone"),
    "kind.industrial_park": ("产业园区", "Industrial park"),
    "kind.incubator": ("孵化器", "Incubator"),
    "kind.maker_space": ("众创空间", "Maker space"),
    "kind.accelerator": ("加速器", "Accelerator"),
    "kind.rd_institution": ("新型研发机构", "New R&D institution"),
    # levels
    "level.national": ("国家级", "National"),
    "level.provincial": ("省级", "Provincial"),
    "level.municipal": ("市级", "Municipal"),
    # belt roles
    "belt_role.core": ("一核", "Core"),
    "belt_role.zone": ("四区", "Zone"),
    "belt_role.park": ("多园", "Park"),
    "belt_role.none": ("—", "—"),
    # location quality
    "location_quality.surveyed": ("实测", "Surveyed"),
    "location_quality.approximate": ("近似", "Approximate"),
    "location_quality.missing": ("缺失", "Missing"),
    # column headers
    "col.id": ("编号", "ID"),
    "col.name": ("名称", "Name"),
    "col.kind": ("类型", "Kind"),
    "col.level": ("级别", "Level"),
    "col.district": ("所在区县", "District"),
    "col.belt_role": ("科创带", "Belt role"),
    "col.location_quality": ("位置", "Location"),
    "col.count": ("数量", "Count"),
    "col.total": ("合计", "Total"),
    "col.what": ("项目", "What"),
    # messages
    "msg.error": ("错误", "Error"),
    "msg.demo_banner": (
        "演示数据：以下均为程序生成的示例，并非真实统计",
        "Demo data: generated examples, not real statistics",
    ),
    "msg.listing_from_config": (
        "数据库尚未初始化，以下列表直接读取登记表 {path}",
        "database not initialised; listing straight from {path}",
    ),
    "msg.init_done": ("数据库已就绪：{db}", "Database ready: {db}"),
    "msg.demo_done": ("演示数据库已生成：{db}", "Demo database built: {db}"),
    "msg.scale_demo_done": (
        "规模演示已生成：演示省 {districts} 个区，{carriers} 个载体，"
        "{first}–{last} 年 {observations} 个数值（配置文件夹、逐年报表文件和数据库）。接着运行：",
        "Scale demo built: a demo province of {districts} districts, {carriers} carriers, "
        "{observations} figures {first}–{last} (config folder, annual report files and database). "
        "Next:",
    ),
    "msg.config_copied": (
        "配置已复制到 {path}；用 --config {path} 或 PARKMON_CONFIG 使用它",
        "Config copied to {path}; use it with --config {path} or PARKMON_CONFIG",
    ),
    "msg.open_site": ("打开网站：", "Open the site:"),
    "msg.no_parks": ("没有符合条件的载体", "No carriers match"),
    "summary.parks": ("载体", "Carriers"),
    "collect.title": ("采集结果", "Collection"),
    "collect.source": ("数据源", "Source"),
    "collect.status": ("状态", "Status"),
    "collect.read": ("读取行", "Rows read"),
    "collect.skipped": ("跳过行", "Skipped"),
    "collect.new": ("新增", "New"),
    "collect.revised": ("修订", "Revised"),
    "collect.unchanged": ("未变", "Unchanged"),
    "collect.rejected": ("拒收", "Rejected"),
    "collect.seconds": ("秒", "Seconds"),
    "collect.not_modified": ("未更新", "not modified"),
    "collect.progress": ("采集中", "Collecting"),
    "collect.see_rejects": (
        "共拒收 {n} 条，查看原因：parkmon rejects；导出给报送单位修改："
        "parkmon rejects --csv 拒收.csv",
        "{n} rejected; see why with `parkmon rejects`, export them for the "
        "sender with `parkmon rejects --csv rejects.csv`",
    ),
    "status.ok": ("成功", "ok"),
    "status.partial": ("部分拒收", "partial"),
    "status.failed": ("失败", "failed"),
    "status.running": ("进行中", "running"),
    "status.interrupted": ("中断", "interrupted"),
    "runs.title": ("采集记录", "Collection runs"),
    "map.kind": ("类型", "Kind"),
    "map.level": ("级别", "Level"),
    "map.district": ("所在区县", "District"),
    "map.belt": ("沿江科创带", "Riverside belt"),
    "map.stars": ("星级", "Stars"),
    "map.score": ("得分", "Score"),
    "map.change": ("较上年", "Change on last year"),
    "map.location": ("位置", "Location"),
    "map.approximate": ("近似位置（仅知所在区县）", "Approximate location"),
    "map.trend": ("历年得分", "Score over the years"),
    "map.layers": ("图层", "Layers"),
    "map.year": ("年份", "Year"),
    "map.legend": ("图例（星级）", "Legend (stars)"),
    "map.unrated": ("未评级", "Not rated"),
    "map.vetoed": ("一票否决", "Vetoed"),
    "map.belt_band": ("沿江带（距岸线范围）", "Riverside band"),
    "map.size_note": ("圆点大小表示载体类型", "Dot size shows the kind"),
    "map.cluster": ("个载体（放大查看）", " carriers (zoom in)"),
    "map.region_title": ("{city}创新载体分布与星级", "{city}: innovation carriers and their stars"),
    "map.progress_title": ("{city}“十四五”目标进展", "{city}: progress toward the plan's goals"),
    "map.site_title": ("{city}科创载体绩效监测", "{city} innovation carrier monitor"),
    "report.title": (
        "年度创新载体星级评定与创新能力评价",
        "Annual star rating and capability evaluation",
    ),
    "report.hash": ("方法内容哈希", "methodology hash"),
    "report.subjects": ("个评价对象", "subjects"),
    "report.by_district": ("分区县汇总", "By district"),
    "report.mean": ("平均分", "Mean score"),
    "report.ranking": ("排名", "Ranking"),
    "report.bonus": ("加分", "Bonus"),
    "report.score": ("总分", "Score"),
    "report.stars": ("星级", "Stars"),
    "report.status": ("状态", "Status"),
    "report.method": ("评价方法", "Methodology"),
    "report.veto": ("一票否决", "Veto"),
    "compare.title": ("载体对比 {year}（创新画像）", "Comparison {year} (innovation profile)"),
    "compare.carrier": ("载体", "Carrier"),
    "compare.indicator": ("指标", "Indicator"),
    "compare.value": ("数值", "Value"),
    "compare.change": ("同比%", "Change %"),
    "compare.percentile": ("同类百分位", "Percentile among peers"),
    "report.changed": (
        "注意：{n} 个评价对象（{ids}）的数据在评定后有变化；本报告显示已存储的评定结果，"
        "如需更新请运行 parkmon rate {year}",
        "Note: the figures of {n} subjects ({ids}) changed after they were rated; this report "
        "shows the stored ratings — run `parkmon rate {year}` to update them",
    ),
    "report.bonus_group": ("加分项", "Bonus"),
    "report.top": ("且位列前 {share}", "and in the top {share}"),
    "report.per": ("{a}／{b}", "{a} per {b}"),
    "report.rank": ("排名", "Rank"),
    "report.id": ("编号", "ID"),
    "report.completeness": ("数据完整度", "Completeness"),
    "report.p5": ("5★概率", "P(5★)"),
    "report.rank_band": ("排名区间（5%–95%分位）", "Rank range (P5–P95)"),
    "report.advice": ("改进建议", "Next star"),
    "report.method_col": ("方法", "Methodology"),
    "report.current_stars": ("当前星级", "Stars now"),
    "report.target_stars": ("目标星级", "Target stars"),
    "report.target_score": ("目标分数", "Target score"),
    "report.option": ("单项（单独提升即可升星）", "Item (raising it alone earns the star)"),
    "report.indicator": ("指标", "Indicator"),
    "report.current": ("现值", "Now"),
    "report.needed": ("需达到", "Needed"),
    "report.version": ("版本", "Version"),
    "report.content_hash": ("内容哈希", "Content hash"),
    "report.group": ("分组", "Group"),
    "report.group_points": ("分值/权重", "Points / weight"),
    "report.item": ("项目", "Item"),
    "report.rule": ("规则", "Rule"),
    "report.points": ("分值", "Points"),
    "rule.linear": ("线性计分", "linear"),
    "rule.tiers": ("分档计分", "tiers"),
    "rule.peer_ratio": ("与同类比较", "relative to peers"),
    "rule.yes_no": ("是/否", "yes/no"),
    "rule.normalised": ("标准化", "normalised"),
    "stars.vetoed": ("否决", "vetoed"),
    "rating.rated": ("已评", "rated"),
    "report.written": ("报告已写入 {path}", "Report written to {path}"),
    # early warning (parkmon risks, the web page, the report sheet)
    # what a goal's status rests on (monitor.quality.goal_basis)
    "basis.none": ("无数据", "no figures"),
    "basis.stale": ("沿用 {year} 年数据（{missing} 年缺报）", "{year} figure ({missing} missing)"),
    "basis.censored": ("排名仅知区间，按界值估计", "rank known only as a bound: estimated"),
    "basis.illustrative": ("分解目标为示意", "illustrative district share"),
    "basis.current": ("最新年度数据", "latest year's figure"),
    # the meeting brief (parkmon brief)
    "brief.title": (
        "{city}科技创新载体工作简报（{year} 年）",
        "{city} innovation carriers: brief for {year}",
    ),
    "brief.made": (
        "生成日期：{date}。数据来自 parkmon 数据库。",
        "Made on {date} from the parkmon database.",
    ),
    "brief.demo": ("演示数据", "demo data"),
    "brief.goals": ("“十四五”重点目标", "Headline goals of the plan"),
    "brief.no_data": ("{n} 项目标尚无数据：", "{n} goals without figures yet: "),
    "brief.stars": ("{year} 年星级分布与变化", "Stars in {year} and changes"),
    "brief.unrated": ("未评级（缺报或待核查）", "not rated (missing or under review)"),
    "brief.moves": (
        "两年均有评级的载体中：升星 {up} 家，持平 {same} 家，降星 {down} 家。",
        "Of those rated both years: {up} up, {same} unchanged, {down} down.",
    ),
    "brief.more": (
        "另有 {n} 家，见 parkmon risks 或网页“风险预警”。",
        "{n} more: see parkmon risks.",
    ),
    "brief.map": ("载体分布（按星级着色）", "Carriers by stars"),
    "brief.written": ("简报已写入 {path}", "Brief written to {path}"),
    "report.risks": ("风险预警", "Early warning"),
    "risk.title": ("风险预警（{year} 年评价之后）", "Early warning (after the {year} evaluation)"),
    "risk.level.high": ("高", "high"),
    "risk.level.watch": ("关注", "watch"),
    "risk.level.low": ("低", "low"),
    "risk.again": ("连续两年不合格风险", "second failure in a row"),
    "risk.col.risk": ("风险", "Risk"),
    "risk.col.level": ("等级", "Level"),
    "risk.col.stars": ("星级", "Stars"),
    "risk.col.score": ("得分", "Score"),
    "risk.col.expected": ("预期得分", "Expected"),
    "risk.col.edge": ("保级线", "Edge"),
    "risk.col.line": ("保级/合格线", "Line to hold"),
    "risk.col.p_fewer": ("降星概率", "Chance of fewer stars"),
    "risk.col.missing": ("缺报分值占比", "Points on missing figures"),
    "risk.col.late": ("逾期天数", "Days late"),
    "risk.col.falling": ("较上年失分最多", "Fell most since last year"),
    "risk.col.levers": ("改进抓手", "What lowers the risk"),
    "risk.no_single": (
        "单项指标不足以补足差距，需多项同时提升",
        "no single figure closes the gap: several must rise",
    ),
    "risk.backtest_again": (
        "连续不合格预警：标出 {flagged} 家，次年确实仍不合格 {hits} 家（准确率 {precision}）；"
        "次年仍不合格的 {failed} 家中，上一年已标出 {recall}；"
        "不合格载体次年仍不合格的比例为 {base}。",
        " Second failures: {flagged} flagged, {hits} failed again the next year (precision "
        "{precision}); of the {failed} that failed again, {recall} had been flagged; {base} of "
        "the failing carriers failed again.",
    ),
    "risk.none": ("没有需要关注的载体。", "No carrier to watch."),
    "risk.backtest": (
        "回测{demo}：{years} 年被标为高风险的载体中，次年降星的占 {precision}（准确率）；"
        "次年降星的载体中，上一年已被标出的占 {recall}（召回率）；"
        "全部载体次年降星的比例为 {base}。",
        "Back-test{demo}: of the carriers flagged high in {years}, {precision} lost a star the "
        "next year (precision); of those that lost a star, {recall} had been flagged (recall); "
        "{base} of all carriers lost a star.",
    ),
    "explain.lost": ("各项失分", "Points lost per item"),
    "explain.item": ("项目", "Item"),
    "explain.value": ("数值", "Value"),
    "explain.points": ("得分", "Points"),
    "explain.lost_col": ("失分", "Lost"),
    "explain.top": ("已是最高星级。", "Already at the top star."),
    "explain.next": (
        "升至 {stars} 需要 {score} 分。单项提升（其余不变）：",
        "{stars} needs {score} points. One figure at a time (the rest unchanged):",
    ),
    "explain.indicator": ("指标", "Indicator"),
    "explain.now": ("现值", "Now"),
    "explain.needed": ("需达到", "Needed"),
    "rating.vetoed": ("一票否决", "vetoed"),
    "rating.incomplete": ("数据不全", "incomplete data"),
    # the static site's index
    "site.region_desc": (
        "区县、沿江科创带，各载体按星级着色；可切换年份",
        "districts, the riverside belt, every carrier by its stars; year control",
    ),
    "site.progress_desc": (
        "各区县完成分解目标的进度；全市目标",
        "districts by progress toward their share of the goals; the city's goals",
    ),
    "site.report_desc": (
        "排名、星级分布、区县、评价方法与内容哈希",
        "rankings, star distribution, districts, methodology and hash",
    ),
    "site.note": (
        "parkmon — 所有页面均可离线打开，用任意浏览器即可查看。",
        "parkmon — every page works offline; open it in any browser.",
    ),
    # runs, rankings and status tables
    "runs.id": ("编号", "Run"),
    "runs.source_id": ("数据源", "Source"),
    "runs.started_at": ("开始时间", "Started"),
    "runs.status": ("结果", "Status"),
    "runs.rows_read": ("读取", "Read"),
    "runs.rows_accepted": ("新增", "New"),
    "runs.rows_revised": ("修订", "Revised"),
    "runs.rows_unchanged": ("未变", "Unchanged"),
    "runs.rows_rejected": ("拒收", "Rejected"),
    "runs.error": ("错误", "Error"),
    "rankings.ranking": ("排名系列", "Ranking"),
    "rankings.year": ("年份", "Year"),
    "rankings.subject_id": ("对象", "Subject"),
    "rankings.position": ("位次", "Position"),
    "rankings.out_of": ("参评数", "Out of"),
    "rankings.note": ("出处", "Source"),
    "jobstate.scheduled": ("已排程", "scheduled"),
    "jobstate.paused": ("已暂停", "paused"),
    "jobstate.not_scheduled": ("尚未排程", "not scheduled yet"),
    "state.ok": ("正常", "ok"),
    "state.failing": ("连续失败", "failing"),
    "state.stale": ("数据过期", "stale"),
    "state.never run": ("从未运行", "never run"),
    "rating.held": ("待核查（数据矛盾）", "held for review (figures contradict)"),
    "schedule.title": ("定时任务", "Scheduled jobs"),
    "schedule.job": ("任务", "Job"),
    "schedule.name": ("说明", "What"),
    "schedule.trigger": ("时间规则", "Trigger"),
    "schedule.next_run": ("下次运行", "Next run"),
    "schedule.state": ("状态", "State"),
    "schedule.last_status": ("上次结果", "Last result"),
    "status.title": ("数据源状态", "Sources"),
    "status.source": ("数据源", "Source"),
    "status.state": ("状态", "State"),
    "status.last_status": ("上次结果", "Last result"),
    "status.data_age_hours": ("数据已过（小时）", "Data age (h)"),
    "status.expected_every_hours": ("应每隔（小时）", "Expected every (h)"),
    "status.consecutive_failures": ("连续失败", "Failures in a row"),
    "status.last_error": ("最近错误", "Last error"),
    "rejects.title": ("拒收记录", "Rejected rows"),
    "rejects.none": ("没有拒收记录", "Nothing was rejected"),
    "rejects.written": ("已导出 {n} 条拒收记录到 {path}", "Wrote {n} rejections to {path}"),
    "rejects.run_id": ("批次", "Run"),
    "rejects.source_id": ("数据源", "Source"),
    "rejects.location": ("位置", "Where"),
    "rejects.field_name": ("字段", "Field"),
    "rejects.value": ("值", "Value"),
    "rejects.reason": ("原因", "Reason"),
    "geo.belt_title": ("沿江科创带载体分布", "Carriers in the riverside sci-tech belt"),
    "geo.in_belt": ("带内", "In belt"),
    "geo.declared": ("登记成员", "Declared"),
    "geo.zone": ("园区范围内", "In a member zone"),
    "geo.riverside": ("沿江带内", "Riverside band"),
    "geo.approximate": ("位置近似", "Approximate"),
    "geo.metrics": (
        "{city}：面积 {area} 平方公里；沿江 {width} 公里带：{band} 平方公里；"
        "岸线 {shore} 公里（{parts}）",
        "{city}: {area} km²; riverside band {width} km: {band} km²; shoreline {shore} km ({parts})",
    ),
    "geo.disagree": (
        "{id} {name}：登记表为{district}，坐标位于{geo_district}",
        "{id} {name}: registry says {district}, its point lies in {geo_district}",
    ),
    "geo.unlocated": ("{id} {name}：无位置", "{id} {name}: no location"),
    "geo.summary": (
        "无位置：{unlocated}；区县不一致：{disagree}",
        "unlocated: {unlocated}; district disagreements: {disagree}",
    ),
    "geo.exported": ("{n} 个载体 → {path}", "{n} carriers → {path}"),
    "summary.observations": ("观测值", "Observations"),
    "summary.recognitions": ("认定记录", "Recognitions"),
    "summary.indicators": ("指标", "Indicators"),
    "summary.regions": ("行政区", "Regions"),
    "summary.years": ("年份", "Years"),
    # the web application
    "col.change": ("变化", "Change"),
    "col.percentile": ("同组百分位", "Percentile in group"),
    "col.median": ("同组中位数", "Group median"),
    "col.goal": ("目标", "Goal"),
    "col.year": ("年份", "Year"),
    "col.stars": ("星级", "Stars"),
    "col.score": ("得分", "Score"),
    "col.rank": ("名次", "Rank"),
    "col.peers": ("同类数", "Peers"),
    "col.status": ("状态", "Status"),
    "col.methodology": ("评价办法", "Methodology"),
    "col.indicator": ("指标", "Indicator"),
    "col.value": ("数值", "Value"),
    "col.unit": ("单位", "Unit"),
    "col.period": ("期间", "Period"),
    "col.source": ("来源", "Source"),
    "col.revision": ("修订", "Revision"),
    "col.raw": ("原始值", "As reported"),
    "col.recorded": ("入库时间（北京时间）", "Recorded (Beijing time)"),
    "col.run": ("采集批次", "Run"),
    "col.started": ("开始（北京时间）", "Started (Beijing time)"),
    "col.read": ("读取", "Read"),
    "col.accepted": ("接收", "Accepted"),
    "col.rejected": ("拒收", "Rejected"),
    "col.error": ("错误", "Error"),
    "col.where": ("位置", "Where"),
    "col.field": ("字段", "Field"),
    "col.reason": ("原因", "Reason"),
    "col.state": ("状态", "State"),
    "col.last_success": ("上次成功", "Last success"),
    "col.level_issuer": ("认定级别", "Level"),
}


def t(key: str, lang: str = "zh", **kwargs: object) -> str:
    """The label for ``key`` in ``lang``; an unknown key comes back as itself, visibly."""
    pair = LABELS.get(key)
    if pair is None:
        return key
    text = pair[0] if lang == "zh" else pair[1]
    return text.format(**kwargs) if kwargs else text


def label(prefix: str, value: str, lang: str = "zh") -> str:
    """Label of an enumeration value, e.g. ``label('kind', 'incubator')`` → 科技企业孵化器."""
    return t(f"{prefix}.{value}", lang) if f"{prefix}.{value}" in LABELS else value


STAR = "★"


def stars_text(value: object, lang: str = "zh") -> str:
    """Stars as shown everywhere: ★★★, 否决/vetoed for 0, — when there is no rating."""
    if value is None:
        return "—"
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "—"
    if math.isnan(number):
        return "—"
    return STAR * int(number) if int(number) > 0 else t("stars.vetoed", lang)
