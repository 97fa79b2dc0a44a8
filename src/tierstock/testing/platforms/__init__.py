"""Loopback doubles of the store platforms' open APIs (Kuaishou, Douyin, Taobao)."""
