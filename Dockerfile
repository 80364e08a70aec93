# dfr's service as a container: `dfr serve` with the console's static files and the
# vendored browser packages (Leaflet, Swagger UI) from package-lock.json.
# Used by docker-compose.yml; not built on the machines dfr is developed on (no Docker).

FROM node:22-bookworm-slim AS web
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev

FROM python:3.11-slim-bookworm
WORKDIR /app
# the service reads web/ and node_modules/ beside the package: an editable install keeps
# that layout
COPY pyproject.toml README.md ./
COPY dfr ./dfr
COPY sitl ./sitl
COPY web ./web
COPY flightplans ./flightplans
COPY --from=web /app/node_modules ./node_modules
RUN pip install --no-cache-dir -e .
ENV DFR_DATA_DIR=/var/lib/dfr
VOLUME /var/lib/dfr
EXPOSE 8080
ENTRYPOINT ["dfr"]
CMD ["serve", "--site", "/app/flightplans/fort-worth", "--host", "0.0.0.0", "--port", "8080"]
