// The seed's AudioStreamService (shared/seed, "Step 1: Create
// AudioStreamService"), transcribed from TypeScript to plain JavaScript for
// the bench: type annotations and `private` removed, nothing else changed in
// what it does (getUserMedia, MediaRecorder with 'audio/webm;codecs=opus' at
// 16 kbps and a 250 ms timeslice, FileReader base64, one JSON message per
// chunk, a log line every 10th chunk). The device-listing helpers are left out.
'use strict';

class AudioStreamService {
  constructor(config) {
    this.mediaRecorder = null;
    this.audioStream = null;
    this.config = config;
    this.chunkIndex = 0;
    this.isStreaming = false;
    this.chunksBuffer = [];
    this.maxBufferSize = 20;
  }

  async start() {
    try {
      console.log('[AudioStreamService] Starting audio capture...');
      this.audioStream = await navigator.mediaDevices.getUserMedia({
        audio: {
          channelCount: 1,
          sampleRate: 16000,
          echoCancellation: true,
          noiseSuppression: true,
          autoGainControl: true,
        },
        video: false,
      });
      console.log('[AudioStreamService] Microphone access granted');
      const mimeType = this.getSupportedMimeType();
      console.log('[AudioStreamService] Using MIME type:', mimeType);
      this.mediaRecorder = new MediaRecorder(this.audioStream, {
        mimeType,
        audioBitsPerSecond: 16000,
      });
      this.mediaRecorder.ondataavailable = (event) => {
        if (event.data.size > 0) {
          this.handleAudioChunk(event.data);
        }
      };
      this.mediaRecorder.onerror = (event) => {
        console.error('[AudioStreamService] MediaRecorder error:', event);
        this.config.onError?.(new Error('MediaRecorder error'));
      };
      this.mediaRecorder.onstop = () => {
        console.log('[AudioStreamService] MediaRecorder stopped');
        this.config.onStreamStop?.();
      };
      this.mediaRecorder.start(this.config.chunkDuration);
      this.isStreaming = true;
      console.log('[AudioStreamService] Audio streaming started');
      this.config.onStreamStart?.();
    } catch (error) {
      console.error('[AudioStreamService] Failed to start:', error);
      this.cleanup();
      throw new Error('Failed to access microphone: ' + error);
    }
  }

  stop() {
    console.log('[AudioStreamService] Stopping audio capture...');
    this.isStreaming = false;
    if (this.mediaRecorder && this.mediaRecorder.state !== 'inactive') {
      this.mediaRecorder.stop();
    }
    if (this.audioStream) {
      this.audioStream.getTracks().forEach(track => track.stop());
    }
    this.chunksBuffer = [];
    console.log('[AudioStreamService] Audio capture stopped');
  }

  cleanup() {
    this.stop();
    this.mediaRecorder = null;
    this.audioStream = null;
  }

  handleAudioChunk(blob) {
    if (!this.isStreaming) {
      if (this.chunksBuffer.length < this.maxBufferSize) {
        this.chunksBuffer.push(blob);
      } else {
        console.warn('[AudioStreamService] Buffer full, dropping chunk');
      }
      return;
    }
    const reader = new FileReader();
    reader.onload = () => {
      if (reader.result && typeof reader.result === 'string') {
        const base64Data = reader.result.split(',')[1];
        this.sendChunk(base64Data, blob.size);
      }
    };
    reader.onerror = () => {
      console.error('[AudioStreamService] Failed to read audio chunk');
      this.config.onError?.(new Error('Failed to read audio chunk'));
    };
    reader.readAsDataURL(blob);
  }

  sendChunk(base64Data, originalSize) {
    if (this.config.websocket.readyState !== WebSocket.OPEN) {
      console.warn('[AudioStreamService] WebSocket not open, buffering chunk');
      return;
    }
    try {
      const message = {
        action: 'audioChunk',
        sessionId: this.config.sessionId,
        audioData: base64Data,
        timestamp: Date.now(),
        format: 'webm-opus',
        chunkIndex: this.chunkIndex++,
        originalSize: originalSize,
      };
      this.config.websocket.send(JSON.stringify(message));
      if (this.chunkIndex % 10 === 0) {
        console.log(
          `[AudioStreamService] Sent chunk ${this.chunkIndex}, ` +
          `size: ${originalSize} bytes, ` +
          `base64: ${base64Data.length} chars`
        );
      }
      this.config.onChunkSent?.(originalSize, this.chunkIndex);
    } catch (error) {
      console.error('[AudioStreamService] Failed to send chunk:', error);
      this.config.onError?.(error);
    }
  }

  getSupportedMimeType() {
    const types = [
      'audio/webm;codecs=opus',
      'audio/webm',
      'audio/ogg;codecs=opus',
      'audio/ogg',
    ];
    for (const type of types) {
      if (MediaRecorder.isTypeSupported(type)) {
        return type;
      }
    }
    console.warn('[AudioStreamService] No preferred MIME type supported, using default');
    return '';
  }
}
