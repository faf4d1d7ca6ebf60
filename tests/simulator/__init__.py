"""Tests of the device simulator."""
