# The landgeo application image (CLI, loaders, validation, API). The database is a separate service.
FROM python:3.12-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 LANDGEO_HOME=/app
WORKDIR /app
COPY pyproject.toml README.md ./
COPY landgeo ./landgeo
COPY landdb ./landdb
COPY geobase ./geobase
COPY loaders ./loaders
COPY schemas ./schemas
COPY pygeoapi-config.yml ./
RUN pip install --no-cache-dir .
RUN useradd --system --uid 10001 landgeo
USER landgeo
EXPOSE 5000
CMD ["landgeo", "serve", "--host", "0.0.0.0", "--port", "5000"]
