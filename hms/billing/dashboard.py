"""Billing's menu entries and dashboard widget."""
