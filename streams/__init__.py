"""qualstream: streaming lead qualification on Kafka and Faust."""

__version__ = "0.1.0"
