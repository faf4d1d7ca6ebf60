"""HA-free client of the WattWächter Plus local REST API."""
