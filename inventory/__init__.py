"""Stock locations and levels, append-only stock movements, thresholds, restock tasks, barcode scan-and-deduct, returns, warehouse allocation and shipments (the vending issue fills it)."""
