# Vigie worker image (production: real Kafka and Redis through VIGIE_* settings).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY streams ./streams
COPY schemas ./schemas
# editable: the worker reads the JSON Schemas from /app/schemas at run time
RUN pip install --no-cache-dir -e .
RUN useradd --system --uid 10001 vigie && mkdir -p /var/lib/vigie && chown vigie /var/lib/vigie
USER vigie
ENV VIGIE_DATA_DIR=/var/lib/vigie VIGIE_WEB_HOST=0.0.0.0
EXPOSE 6066
ENTRYPOINT ["vigie"]
CMD ["worker"]
