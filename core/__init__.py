"""Regions, sites, region scoping, the audit log and notifications: what every other app stands on."""
