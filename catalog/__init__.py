"""The product catalog: products, categories, brands, suppliers, barcodes, cost and sale prices,
and the all-or-nothing spreadsheet import."""
