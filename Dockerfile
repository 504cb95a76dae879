# The llamaops operator image, for people with a container runtime:
#   docker build -t llamaops:0.1.0 .
# `make image` builds the same image without a daemon (image/build.sh: mmdebstrap + umoci).
FROM python:3.11-slim-bookworm AS wheels
WORKDIR /src
COPY pyproject.toml README.md ./
COPY operator ./operator
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim-bookworm
RUN python -m venv /opt/llamaops \
 && groupadd --gid 65532 llamaops \
 && useradd --uid 65532 --gid 65532 --no-create-home --shell /usr/sbin/nologin llamaops
COPY --from=wheels /wheels /tmp/wheels
RUN /opt/llamaops/bin/pip install --no-cache-dir --no-index --find-links /tmp/wheels llamaops \
 && rm -rf /tmp/wheels
ENV PYTHONUNBUFFERED=1
USER 65532:65532
ENTRYPOINT ["/opt/llamaops/bin/llamaops"]
CMD ["run"]
