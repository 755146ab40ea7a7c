"""How demo data is labelled and seeded (light: no numpy, no pandas)."""

DEMO_SEED = 20210401  # the day the riverside belt was announced
DEMO_SOURCE = "demo-generator"
DEMO_LABEL_ZH = "演示数据"
DEMO_LABEL_EN = "demo data"
