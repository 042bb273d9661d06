# syntax=docker/dockerfile:1
# CI builds this file with buildah (tests/docker): where no container registry answers, it passes a stand-in
# base (Debian bookworm's Python 3.11) as PYTHON_IMAGE; everything below runs as written.
ARG PYTHON_IMAGE=python:3.11-slim
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY setup.cfg pyproject.toml README.md ./
COPY app ./app
COPY config ./config
RUN pip install .

FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PORT=5100
# the state store's SQLite file (REDIS_URL replaces it): somewhere the non-root user can write
ENV STATE_DB=/home/jimeng/state/state.sqlite3
RUN useradd --create-home --uid 10001 --user-group jimeng
COPY --from=build /opt/venv /opt/venv
WORKDIR /srv
COPY wsgi.py ./
COPY config ./config
USER 10001:10001
EXPOSE 5100
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/ping' % os.environ.get('PORT', '5100'), timeout=2)"]
CMD ["gunicorn", "-c", "config/gunicorn.py", "wsgi:app"]
