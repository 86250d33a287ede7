# The project image: `matchmaker` is the entrypoint; args pick the process (worker, monitor, api, ...).
# Untested here (no Docker engine on the development machine). Build from the repository root:
#   docker build -t matchmaker:0.1.0 .

# Stage 1: the wheel (code plus package data: monitor page, broker pom/log4j config, sample data).
FROM python:3.11-slim AS wheel
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY schemas ./schemas
COPY matcher ./matcher
COPY services ./services
COPY sample_data ./sample_data
RUN pip wheel --no-deps --wheel-dir /wheels .

# Stage 2: the wheel installed like any user would; no source tree in the image.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MATCHMAKER_HOME=/data HF_HUB_OFFLINE=1

# The matcher's language resources (Finnish morphology, Finnish/Swedish-English dictionaries): Debian packages.
RUN apt-get update && apt-get install -y --no-install-recommends voikko-fi libvoikko1 dict-freedict-fin-eng \
        dict-freedict-swe-eng && rm -rf /var/lib/apt/lists/*

# CPU-only torch first (the default wheel pulls CUDA libraries the workers do not use).
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch

COPY --from=wheel /wheels /wheels
RUN pip install /wheels/*.whl && rm -rf /wheels && useradd --uid 10001 --home-dir /data --create-home matchmaker
USER 10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 6066 9308 8080
ENTRYPOINT ["matchmaker"]
CMD ["worker"]
