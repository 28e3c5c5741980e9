# Production image: gunicorn serves web + status page; the same image runs
# the Celery worker and beat (see docker-compose.yml).
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    TREEBEARD_VAR_DIR=/app/var
WORKDIR /app
COPY pyproject.toml constraints.txt ./
COPY treebeard_ir ./treebeard_ir
COPY incidents ./incidents
COPY postmortems ./postmortems
COPY statuspage ./statuspage
RUN pip install -c constraints.txt .
COPY manage.py gunicorn.conf.py ./
COPY templates ./templates
COPY static ./static
RUN useradd --system --uid 10001 --home /app treebeard \
    && mkdir -p /app/var \
    && SECRET_KEY=collectstatic-only-not-a-secret-0123456789abcdef python manage.py collectstatic --noinput -v0 \
    && chown -R treebeard /app/var
USER treebeard
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
# gunicorn.conf.py: bind, workers, threads and the access log with URL secrets redacted.
ENV BIND=0.0.0.0:8000 WEB_CONCURRENCY=3 WEB_THREADS=4
CMD ["gunicorn", "-c", "gunicorn.conf.py", "treebeard_ir.wsgi:application"]
