"""Exporters: present a Schedule as files. They decide nothing the Schedule does not say."""
