# The landgeo application image (CLI, loaders, validation, API). The database is a separate service.
# The HTML pages' scripts and styles come from the npm registry at build time and are served by landgeo.
FROM node:22-bookworm-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

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
COPY --from=web /web/node_modules ./web/node_modules
RUN pip install --no-cache-dir .
RUN useradd --system --uid 10001 landgeo
USER landgeo
EXPOSE 5000
CMD ["landgeo", "serve", "--host", "0.0.0.0", "--port", "5000"]
