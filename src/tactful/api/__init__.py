"""The REST API: a face over ``tactful.service``, started by ``tactful serve``.

Handlers are thin: they check who is calling (``deps``), call one service function and return
its typed record. Errors leave as RFC 9457 problem details (``problems``); request size and a
per-key rate are limited before a handler runs (``limits``); Prometheus metrics are at
``/metrics`` (``metrics``). Nothing in the engine imports this package.
"""
