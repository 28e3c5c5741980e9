"""Error reports (the DEBUG page, and the e-mail Django sends ADMINS on a
500) without the secrets our URLs and forms carry.

Django's ``SafeExceptionReporterFilter`` stars settings whose names look
secret and the POST fields a view declares sensitive. Ours also stars frame
variables and POST fields named like a credential (``token``,
``feed_token``, ``new_secret``, ``password``…) and passes the finished report
through ``redact_path``, so the request URL, ``PATH_INFO``, the Referer and
the repr of the request read as they do in the logs.
"""

from __future__ import annotations

from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from .redact import redact_path, redact_query


class SecretsExceptionReporterFilter(SafeExceptionReporterFilter):
    def get_safe_request_meta(self, request):
        meta = super().get_safe_request_meta(request)
        if isinstance(meta.get("QUERY_STRING"), str):
            meta["QUERY_STRING"] = redact_query(meta["QUERY_STRING"])
        return meta

    def get_traceback_frame_variables(self, request, tb_frame):
        return [
            (name, self.cleanse_setting(name, value))
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]

    def get_post_parameters(self, request):
        params = super().get_post_parameters(request)
        if not self.is_active(request) or not params:
            return params
        cleansed = params.copy()
        for name in params:
            if self.hidden_settings.search(name):
                cleansed[name] = self.cleansed_substitute
        return cleansed


class SecretsExceptionReporter(ExceptionReporter):
    def get_traceback_data(self) -> dict:
        data = super().get_traceback_data()
        if self.request is not None:
            # Django lists the query string's parameters unfiltered.
            data["request_GET_items"] = [
                (name, self.filter.cleanse_setting(name, value))
                for name, value in self.request.GET.items()
            ]
        return data

    def get_traceback_html(self) -> str:
        return redact_path(super().get_traceback_html())

    def get_traceback_text(self) -> str:
        return redact_path(super().get_traceback_text())
