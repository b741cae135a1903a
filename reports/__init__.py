"""Statistics, dashboards, profit and turnover reports, sales forecasting and exports."""
