# The qualstream worker image (also runs the generator): docker build -t qualstream .
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY streams ./streams
COPY schemas ./schemas
RUN pip install --no-cache-dir -e . \
    && useradd --create-home qualstream && mkdir -p /data && chown qualstream /data
USER qualstream
ENV QUALSTREAM_DATA_DIR=/data QUALSTREAM_WEB_HOST=0.0.0.0
EXPOSE 6066
ENTRYPOINT ["qualstream"]
CMD ["worker"]
